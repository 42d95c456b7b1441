//! What every tracking command shares: connecting, the tracking loop with Ctrl-C, the rollback
//! of failed Deployment rollouts, and the exit code.

use rollwatch_tracker::rollback::{self, Mark, Undone};
use rollwatch_tracker::{ClusterOptions, End, Error, TrackOptions, Tracker};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::exit_code;
use crate::render::{Note, Reporter};

/// Connects with the global flags; the namespace is `-n` or the context's.
pub async fn connect(global: &Global) -> Result<(Tracker, String), Error> {
    let options = ClusterOptions { kubeconfig: global.kubeconfig.clone(), context: global.context.clone() };
    let tracker = Tracker::connect(&options).await?;
    let namespace = global.namespace.clone().unwrap_or_else(|| tracker.default_namespace().to_string());
    Ok((tracker, namespace))
}

/// Reports an error that ended a run before tracking, and its exit code.
pub fn fail(reporter: &mut dyn Reporter, error: &Error) -> u8 {
    let code = exit_code::for_error(error);
    reporter.error(error, code);
    code
}

/// Tracks `objects` to the end, showing progress; on failure undoes the rollouts in `rollback`
/// before the summary. Returns the exit code.
pub async fn track(tracker: &Tracker, objects: Vec<ObjectRef>, options: TrackOptions, reporter: &mut dyn Reporter, rollback: &[Mark]) -> u8 {
    let mut tracking = tracker.track(objects, options);
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
            reporter.note(&undo(tracker, mark).await);
        }
    }
    let code = exit_code::for_end(&outcome.end);
    reporter.finish(&outcome, code);
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
