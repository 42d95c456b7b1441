//! The exit codes of every command: what a pipeline can act on without parsing the output.

/// How a command ended. The numbers are part of the CLI contract (shown by `--help`, listed in
/// the README); `--help` prints them from [`Code::ALL`], so the two cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Ready = 0,
    Failed = 1,
    Usage = 2,
    NotReady = 3,
    ClusterAccess = 4,
    Interrupted = 130,
    Terminated = 143,
}

impl Code {
    pub const ALL: [Code; 7] = [Code::Ready, Code::Failed, Code::Usage, Code::NotReady, Code::ClusterAccess, Code::Interrupted, Code::Terminated];

    pub fn meaning(self) -> &'static str {
        match self {
            Code::Ready => "everything ready",
            Code::Failed => "a rollout failed",
            Code::Usage => "usage or manifest error (bad flags, unreadable or invalid file)",
            Code::NotReady => "not ready in time (one-shot check/status: not ready yet)",
            Code::ClusterAccess => "cluster access error (unreachable, unauthorized, forbidden, still throttling after the retries)",
            Code::Interrupted => "interrupted (Ctrl-C, SIGINT)",
            Code::Terminated => "terminated (SIGTERM, e.g. a cancelled CI job)",
        }
    }

    /// The worst of two outcomes, for a command that judges several objects: a failure beats
    /// not-ready, which beats ready.
    pub fn worst(self, other: Code) -> Code {
        let rank = |code: Code| match code {
            Code::Ready => 0,
            Code::NotReady => 1,
            _ => 2,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

/// The table shown at the end of `--help`.
pub fn help() -> String {
    let mut text = String::from("Exit codes:");
    for code in Code::ALL {
        text.push_str(&format!("\n  {:<4} {}", code as u8, code.meaning()));
    }
    text
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

impl From<rollwatch_verdict::State> for Code {
    /// Ready is 0 and Failed is 1; every other state (progressing, paused, terminating, not
    /// found, unknown) is not ready (yet).
    fn from(state: rollwatch_verdict::State) -> Self {
        match state {
            rollwatch_verdict::State::Ready => Code::Ready,
            rollwatch_verdict::State::Failed => Code::Failed,
            _ => Code::NotReady,
        }
    }
}
