//! How a run is shown: live progress on a terminal, plain timestamped lines for CI logs, JSON
//! lines or YAML documents; all report the same things.

pub mod json;
mod live;
mod names;
mod plain;
mod record;
mod summary;

pub use record::Recorded;

use std::io::IsTerminal;

use rollwatch_tracker::{Error, Outcome, Update};
use rollwatch_verdict::estimate::Pace;
use rollwatch_verdict::{ObjectRef, Verdict};
use serde_json::json;

use crate::sanitize::{self, inline};
use crate::{Output, Progress};

/// Something a command did besides tracking: applied an object, set an image, rolled back.
#[derive(Debug, Clone)]
pub struct Note {
    /// Machine-readable name (`applied`, `image_set`, `rolled_back`, `rollback_skipped`, `dry_run`).
    pub event: &'static str,
    pub object: Option<ObjectRef>,
    pub message: String,
}

/// Shows one run.
pub trait Reporter {
    fn note(&mut self, note: &Note);
    fn update(&mut self, update: &Update);
    /// Called every second, for what shows elapsed time.
    fn tick(&mut self) {}
    /// The end: every object's result and the exit code.
    fn finish(&mut self, outcome: &Outcome, exit_code: u8);
    /// Whether it shows pods' state changes, warning events and planned waves (the tracker
    /// reports them only when asked: they cost a reading of every pod version).
    fn wants_timeline(&self) -> bool {
        false
    }
}

/// Reports an error that ended a command before or instead of tracking (bad input, no cluster):
/// on standard error in text, as a JSON line or YAML document on standard output in json or yaml.
pub fn error(output: Output, error: &Error, exit_code: crate::exit::Code) {
    let code = exit_code as u8;
    match output {
        Output::Text | Output::Name => eprintln!(
            "error: {}
(exit code {code}: {})",
            sanitize::lines(&error.to_string()),
            exit_code.meaning()
        ),
        Output::Json | Output::Yaml => {
            let document = json!({"event": "error", "time": timestamp(jiff::Timestamp::now()), "exit_code": code, "message": error.message});
            println!("{}", crate::render::document(output, &document))
        }
    }
}

/// The reporter for `output` and `progress`; `namespace` is the run's namespace, left out of
/// object names.
pub fn reporter(output: Output, progress: Progress, namespace: &str) -> Box<dyn Reporter> {
    let names = Names { namespace: namespace.to_string() };
    match (output, progress) {
        (Output::Json | Output::Yaml, _) => Box::new(json::Documents { output }),
        (Output::Name, _) => Box::new(names::NameList::default()),
        (Output::Text, Progress::Tty) => Box::new(live::Live::new(names)),
        (Output::Text, Progress::Auto) if std::io::stdout().is_terminal() => Box::new(live::Live::new(names)),
        (Output::Text, _) => Box::new(plain::Plain::new(names)),
    }
}

/// Object names as shown in text: `deployment/web`, with the namespace when it is not the run's;
/// escaped, as `check` reads them from files nobody validated.
#[derive(Debug, Clone)]
pub struct Names {
    namespace: String,
}

impl Names {
    pub fn of(&self, object: &ObjectRef) -> String {
        match &object.namespace {
            Some(namespace) if *namespace != self.namespace => inline(&format!("{object} (namespace {namespace})")),
            _ => inline(&object.to_string()),
        }
    }
}

/// `2026-11-23T04:40:00Z`, to the second, for log lines.
pub fn timestamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `settling: 6s left` while a rollout waits out its settle window, as of `now`.
pub fn settling_left(verdict: &Verdict, now: jiff::Timestamp) -> Option<String> {
    verdict.settling.map(|settling| format!("settling: {} left", short_duration(settling.left(now))))
}

/// The settle window's end and the whole seconds left as of `now`, for JSON; null when not settling.
pub fn settling_json(verdict: &Verdict, now: jiff::Timestamp) -> serde_json::Value {
    verdict.settling.map_or(serde_json::Value::Null, |settling| json!({"until": settling.until, "seconds_left": settling.left(now).as_secs()}))
}

/// `(expected ~25s more)` while the model still expects time to go, else nothing.
pub fn expected_more(pace: &Pace) -> Option<String> {
    let remaining = pace.remaining();
    (!remaining.is_zero()).then(|| format!("expected {} more", approximately(remaining)))
}

/// `~25s`: a model's time, in whole seconds rounded up (an expectation of 0.4 s shows as 1s).
pub fn approximately(duration: std::time::Duration) -> String {
    format!("~{}", short_duration(round_up(duration)))
}

/// The one-time note when a rollout falls far behind the model.
pub fn slower_note(pace: &Pace) -> String {
    format!(
        "slower than expected: {} elapsed, the model expected the next updated pod available after {} (a hint, not a failure)",
        short_duration(pace.elapsed),
        short_duration(round_up(pace.next_pod_due)),
    )
}

/// Whole seconds, rounded up: an expectation of 0.4 s still shows as 1s.
fn round_up(duration: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_secs(duration.as_secs() + u64::from(duration.subsec_nanos() > 0))
}

/// `1m05s`, `12s`, for elapsed times.
pub fn short_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}
