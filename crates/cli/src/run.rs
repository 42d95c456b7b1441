//! What every cluster command shares: connecting, reporting errors with their exit codes, the
//! tracking loop with Ctrl-C, and the rollback of failed Deployment rollouts.

use std::future::Future;

use rollwatch_tracker::rollback::{self, Mark, Undone};
use rollwatch_tracker::{ClusterOptions, End, Error, ErrorKind, TrackOptions, Tracker};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::exit::Code;
use crate::report::{self, Note, Reporter};

/// A connected command: the tracker, the namespace (`-n` or the context's) and the reporter.
pub struct Session {
    pub tracker: Tracker,
    pub namespace: String,
    pub reporter: Box<dyn Reporter>,
}

/// Runs a cluster command: `prepared` is what was read before connecting (its error ends the
/// command before the cluster is asked), `body` does the rest. Errors are reported and turned
/// into their exit codes.
pub fn command<T, F, Fut>(global: &Global, prepared: Result<T, Error>, body: F) -> anyhow::Result<Code>
where
    F: FnOnce(Session, T) -> Fut,
    Fut: Future<Output = Result<Code, Error>>,
{
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(async {
        let prepared = prepared?;
        let options = ClusterOptions { kubeconfig: global.kubeconfig.clone(), context: global.context.clone() };
        let tracker = Tracker::connect(&options).await?;
        let namespace = global.namespace.clone().unwrap_or_else(|| tracker.default_namespace().to_string());
        let reporter = report::reporter(global.output, &namespace);
        body(Session { tracker, namespace, reporter }, prepared).await
    });
    // Feeds still blocked on a socket must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
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
    }
}

pub fn code_for_error(error: &Error) -> Code {
    match error.kind {
        ErrorKind::Input => Code::Usage,
        ErrorKind::Access => Code::ClusterAccess,
        ErrorKind::Cluster => Code::Failed,
    }
}

/// Tracks `objects` to the end, showing progress; on failure undoes the rollouts in `rollback`
/// before the summary.
pub async fn track(session: &mut Session, objects: Vec<ObjectRef>, options: TrackOptions, rollback: &[Mark]) -> Code {
    let reporter = session.reporter.as_mut();
    let mut tracking = session.tracker.track(objects, options);
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let mut interrupt_pending = true;
    loop {
        tokio::select! {
            update = tracking.next_update() => match update {
                Some(update) => reporter.update(&update),
                None => break,
            },
            _ = &mut interrupted, if interrupt_pending => {
                interrupt_pending = false;
                tracking.interrupt();
            }
            _ = ticker.tick() => reporter.tick(),
        }
    }
    let outcome = tracking.outcome().await;
    if matches!(outcome.end, End::Failed) {
        for mark in rollback {
            reporter.note(&undo(&session.tracker, mark).await);
        }
    }
    let code = code_for_end(&outcome.end);
    reporter.finish(&outcome, code as u8);
    code
}

async fn undo(tracker: &Tracker, mark: &Mark) -> Note {
    match rollback::undo(tracker, mark).await {
        Ok(Undone::RolledBack { deployment, revision, images }) => Note {
            event: "rolled_back",
            object: Some(deployment),
            message: format!("rolled back to revision {revision} (images: {}); its old pods are coming back", images.join(", ")),
        },
        Ok(Undone::Nothing { deployment, why }) => {
            Note { event: "rollback_skipped", object: Some(deployment), message: format!("not rolled back: {why}") }
        }
        Err(error) => Note { event: "rollback_failed", object: Some(mark.deployment.clone()), message: format!("rollback failed: {error}") },
    }
}
