//! What every cluster command shares: connecting, reporting errors with their exit codes, the
//! tracking loop that a signal stops cleanly (see `signals`), and the rollback of failed or
//! timed-out Deployment rollouts.

use std::future::Future;
use std::time::Duration;

use rollwatch_tracker::rollback::{self, Mark, Undone};
use rollwatch_tracker::{End, Error, ErrorKind, Outcome, TrackOptions, Tracker};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::exit::Code;
use crate::report::{self, Note, Reporter};
use crate::signals::Signals;

/// A connected command: the tracker, the namespace (`-n` or the context's) and the reporter.
pub struct Session {
    pub tracker: Tracker,
    pub namespace: String,
    pub reporter: Box<dyn Reporter>,
    /// SIGINT and SIGTERM: a command holds [`Signals::handle`] while a signal must not cut it
    /// short (writes, tracking).
    pub signals: Signals,
}

/// Runs a cluster command: `prepared` is what was read before connecting (its error ends the
/// command before the cluster is asked), `body` does the rest. Errors are reported and turned
/// into their exit codes.
pub fn command<T, F, Fut>(global: &Global, prepared: Result<T, Error>, body: F) -> anyhow::Result<Code>
where
    F: FnOnce(Session, T) -> Fut,
    Fut: Future<Output = Result<Code, Error>>,
{
    // One thread: the work is waiting on sockets and one engine loop, and with worker threads
    // glibc's per-thread arenas held a third more memory than the objects tracked (164 MiB
    // against 110 MiB for 1,000 Deployments).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut ended = false;
    let result = runtime.block_on(async {
        let prepared = prepared?;
        let signals = Signals::listen().map_err(|e| Error::cluster(format!("cannot listen for signals: {e}")))?;
        let mut ending = signals.clone();
        let mut work = Box::pin(async move {
            let tracker = Tracker::connect(&global.cluster_options()).await?;
            let namespace = global.namespace.clone().unwrap_or_else(|| tracker.default_namespace().to_string());
            let reporter = report::reporter(global.output, global.progress, &namespace);
            body(Session { tracker, namespace, reporter, signals }, prepared).await
        });
        let stop = tokio::select! {
            result = &mut work => return result,
            stop = ending.ended() => stop,
        };
        // A signal ends the command at once: dropping it drops its session as any other end
        // does, so a --timeline file is written with what was recorded ("unfinished").
        drop(work);
        ended = true;
        Ok(stop.code())
    });
    if ended {
        // At once: nothing of the abandoned command is waited for.
        runtime.shutdown_background();
    } else {
        // Feeds still blocked on a socket must not hold the exit up.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    }
    Ok(result.unwrap_or_else(|error| {
        let code = code_for_error(&error);
        report::error(global.output, &error, code);
        code
    }))
}

pub fn code_for_end(end: &End) -> Code {
    match end {
        End::Ready => Code::Ready,
        End::Failed => Code::Failed,
        End::NotReady | End::TimedOut => Code::NotReady,
        End::Interrupted => Code::Interrupted,
        End::Error(error) => code_for_error(error),
        // An end this build does not know yet cannot be called a success.
        _ => Code::Failed,
    }
}

pub fn code_for_error(error: &Error) -> Code {
    match error.kind {
        ErrorKind::Input => Code::Usage,
        ErrorKind::Access => Code::ClusterAccess,
        ErrorKind::Cluster => Code::Failed,
        ErrorKind::TimedOut => Code::NotReady,
        _ => Code::Failed,
    }
}

/// The end of a command's `--timeout`, shared by all its phases (dry run, apply, tracking,
/// rollback and its recovery), so that no phase starts a fresh one.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<tokio::time::Instant>);

/// How long a rollback's own requests may take past the deadline: a rollout that timed out can
/// still be undone, though its recovery is not followed.
const ROLLBACK_ALLOWANCE: Duration = Duration::from_secs(30);

impl Deadline {
    /// `timeout` from now; `None` (or one too far to represent) never passes.
    pub fn after(timeout: Option<Duration>) -> Self {
        Self(timeout.and_then(|timeout| tokio::time::Instant::now().checked_add(timeout)))
    }

    /// The time left, zero once passed; `None`: no limit.
    pub fn remaining(&self) -> Option<Duration> {
        self.0.map(|at| at.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// `options` with the time left as their timeout.
    pub fn limit(&self, options: TrackOptions) -> TrackOptions {
        TrackOptions { timeout: self.remaining(), ..options }
    }

    /// Runs `work` until the deadline: past it, a timeout error saying during what.
    pub async fn bound<T>(&self, phase: &str, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.0 {
            None => work.await,
            Some(at) => tokio::time::timeout_at(at, work).await.unwrap_or_else(|_| Err(Error::timed_out(format!("the timeout passed during {phase}")))),
        }
    }

    fn extended(&self, by: Duration) -> Self {
        Self(self.0.and_then(|at| at.checked_add(by)))
    }
}

/// Tracks `objects` to the end, showing progress. When it fails or times out, undoes the
/// rollouts in `rollback` and follows the rolled-back Deployments until they are ready again
/// (within what is left of the same timeout), then shows the summary of the failed run. A signal
/// stops it with the summary; its exit code says which signal.
pub async fn track(session: &mut Session, objects: Vec<ObjectRef>, options: TrackOptions, rollback: &[Mark]) -> Code {
    let _handling = session.signals.handle();
    let mut signals = session.signals.clone();
    let deadline = Deadline::after(options.timeout);
    let reporter = session.reporter.as_mut();
    let options = TrackOptions { timeline: options.timeline || reporter.wants_timeline(), ..options };
    let outcome = follow(&session.tracker, reporter, objects, options.clone(), &mut signals).await;
    if matches!(outcome.end, End::Failed | End::TimedOut) {
        roll_back(&session.tracker, reporter, rollback, options, deadline, &mut signals).await;
    }
    let code = match (&outcome.end, signals.received()) {
        (End::Interrupted, Some(stop)) => stop.code(),
        (end, _) => code_for_end(end),
    };
    reporter.finish(&outcome, code as u8);
    code
}

/// Undoes the rollouts in `rollback` after a run that ended before tracking (an apply that
/// stopped midway), and follows the rolled-back Deployments until they are ready again.
pub async fn roll_back_after_error(session: &mut Session, rollback: &[Mark], options: TrackOptions, deadline: Deadline) {
    let _handling = session.signals.handle();
    let mut signals = session.signals.clone();
    roll_back(&session.tracker, session.reporter.as_mut(), rollback, options, deadline, &mut signals).await;
}

/// Undoes each marked rollout, then follows the rolled-back Deployments (unless interrupted)
/// for the time left before `deadline`.
async fn roll_back(tracker: &Tracker, reporter: &mut dyn Reporter, rollback: &[Mark], options: TrackOptions, deadline: Deadline, signals: &mut Signals) {
    let mut rolled_back = Vec::new();
    let writes = deadline.extended(ROLLBACK_ALLOWANCE);
    for mark in rollback {
        let (note, deployment) = undo(tracker, mark, writes).await;
        reporter.note(&note);
        rolled_back.extend(deployment);
    }
    if rolled_back.is_empty() || signals.received().is_some() {
        return;
    }
    if deadline.remaining().is_some_and(|left| left.is_zero()) {
        let message = "rollback started, not followed: the timeout has passed (rollwatch wait follows it)".to_string();
        reporter.note(&Note { event: "rollback_result", object: None, message });
        return;
    }
    let recovery = follow(tracker, reporter, rolled_back, deadline.limit(options), signals).await;
    reporter.note(&recovery_note(&recovery));
}

/// One tracking run, its updates shown as they come, until its end or a signal.
async fn follow(tracker: &Tracker, reporter: &mut dyn Reporter, objects: Vec<ObjectRef>, options: TrackOptions, signals: &mut Signals) -> Outcome {
    let mut tracking = tracker.track(objects, options);
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut interrupted = false;
    loop {
        tokio::select! {
            update = tracking.next_update() => match update {
                Some(update) => reporter.update(&update),
                None => break,
            },
            _ = signals.stopped(), if !interrupted => {
                interrupted = true;
                tracking.interrupt();
            }
            _ = ticker.tick() => reporter.tick(),
        }
    }
    tracking.outcome().await
}

/// What became of the rolled-back Deployments.
fn recovery_note(recovery: &Outcome) -> Note {
    let message = match recovery.end {
        End::Ready => "rollback complete: the previous revision is ready again".to_string(),
        _ => {
            let pending: Vec<String> = recovery.objects.iter().filter(|o| !o.reached).map(|o| format!("{}: {}", o.object, o.verdict.message)).collect();
            format!("rollback not complete: {}", pending.join("; "))
        }
    };
    Note { event: "rollback_result", object: None, message }
}

/// Undoes one rollout; the Deployment is returned when it was rolled back.
async fn undo(tracker: &Tracker, mark: &Mark, deadline: Deadline) -> (Note, Option<ObjectRef>) {
    match deadline.bound("the rollback", rollback::undo(tracker, mark)).await {
        Ok(Undone::RolledBack { deployment, revision, images }) => {
            let message = format!("rolled back to revision {revision} (images: {})", images.join(", "));
            (Note { event: "rolled_back", object: Some(deployment.clone()), message }, Some(deployment))
        }
        Ok(Undone::Nothing { deployment, why }) => {
            (Note { event: "rollback_skipped", object: Some(deployment), message: format!("not rolled back: {why}") }, None)
        }
        Err(error) => {
            let note = Note { event: "rollback_failed", object: Some(mark.deployment.clone()), message: format!("rollback failed: {error}") };
            (note, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn work_past_the_deadline_ends_with_a_timeout_naming_the_phase() {
        runtime().block_on(async {
            let passed = Deadline::after(Some(Duration::ZERO));
            let error = passed.bound("the apply", std::future::pending::<Result<(), Error>>()).await.unwrap_err();
            assert_eq!(error.kind, ErrorKind::TimedOut);
            assert_eq!(error.message, "the timeout passed during the apply");
            assert_eq!(code_for_error(&error), Code::NotReady);
            assert_eq!(passed.limit(TrackOptions::default()).timeout, Some(Duration::ZERO), "a later phase gets no fresh timeout");
        });
    }

    #[test]
    fn no_timeout_or_one_too_far_to_represent_never_passes() {
        runtime().block_on(async {
            for deadline in [Deadline::after(None), Deadline::after(Some(Duration::MAX))] {
                assert_eq!(deadline.remaining(), None);
                assert_eq!(deadline.bound("the apply", async { Ok::<_, Error>(7) }).await.unwrap(), 7);
            }
            let hour = Deadline::after(Some(Duration::from_secs(3600)));
            assert!(hour.remaining().is_some_and(|left| left <= Duration::from_secs(3600) && left > Duration::ZERO));
        });
    }
}
