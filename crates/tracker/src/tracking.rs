//! Tracking objects to an end: what the caller gets (a stream of [`Update`]s, then an
//! [`Outcome`]) and the options that shape it. The loop itself is in `engine`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use jiff::Timestamp;
use rollwatch_verdict::estimate::Pace;
use rollwatch_verdict::{ObjectRef, Policy, State, Verdict};
use tokio::sync::{mpsc, oneshot};

use crate::timeline::{PlannedWaves, PodChange, WarningEvent};
use crate::{Error, Explanation, FeedMode};

/// What counts as done for a tracked object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Goal {
    /// Ready (rolled out, complete, established...).
    Ready,
    /// Gone from the cluster.
    Deleted,
}

/// How to track.
#[derive(Debug, Clone)]
pub struct TrackOptions {
    /// Tolerances of the verdict engine.
    pub policy: Policy,
    pub mode: FeedMode,
    pub goal: Goal,
    /// Stop at the first failed object (else wait until every object has a final verdict).
    pub fail_fast: bool,
    /// Give up after this long (`None`: never).
    pub timeout: Option<Duration>,
    /// Log lines to show per failed container (0: none).
    pub logs_tail: u32,
    /// Besides when a verdict says it would change by time ([`Verdict::changes_at`]), judge
    /// every object again this often (`None`, the default: only then). Before verdicts said so,
    /// the engine did this every second; the replay benchmark measures what that cost.
    pub recheck_every: Option<Duration>,
    /// Also report what a timeline picture draws: [`Update::Pod`], [`Update::Warning`] and
    /// [`Update::Waves`] (off by default: it reads every pod and event version once more).
    pub timeline: bool,
    /// Each kind is listed or watched across all namespaces, once, instead of per namespace: for
    /// objects spread over the cluster (`-A`), a handful of requests, as `kubectl get -A` makes,
    /// instead of a few per namespace. Needs the rights to list the kinds cluster-wide.
    pub all_namespaces: bool,
}

impl Default for TrackOptions {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            mode: FeedMode::Watch,
            goal: Goal::Ready,
            fail_fast: true,
            timeout: Some(Duration::from_secs(300)),
            logs_tail: 20,
            recheck_every: None,
            timeline: false,
            all_namespaces: false,
        }
    }
}

/// Something that happened while tracking.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Update {
    /// An object's verdict changed (its state, message, reasons or replica figures), or its
    /// rollout became slower than expected (or stopped being so). Boxed: it is much larger
    /// than the other variants.
    Verdict(Box<VerdictChange>),
    /// A feed could not get through to the API server; it keeps retrying. Until it has listed its
    /// objects again, the objects that read it get no final verdict (a ready or failed one shows
    /// as [`State::Unknown`]) and grace periods and the stable window stand still.
    Trouble { feed: String, message: String },
    /// Something the verdicts go without, said once (whether a cluster autoscaler runs could not
    /// be told); nothing is retried.
    Note { message: String },
    /// With [`TrackOptions::timeline`]: a pod of a tracked object changed state, restarted or was
    /// deleted.
    Pod(Box<PodChange>),
    /// With [`TrackOptions::timeline`]: a warning event about a tracked object's family.
    Warning(Box<WarningEvent>),
    /// With [`TrackOptions::timeline`]: the waves the duration model expects for a rollout
    /// (a new generation of a Deployment, StatefulSet or DaemonSet).
    Waves(Box<PlannedWaves>),
}

/// A new verdict for one object.
#[derive(Debug, Clone)]
pub struct VerdictChange {
    pub object: ObjectRef,
    pub verdict: Verdict,
    /// The state before, if there was a verdict before.
    pub previous: Option<State>,
    pub at: Timestamp,
    /// Since tracking started.
    pub elapsed: Duration,
    /// While a Deployment, StatefulSet or DaemonSet is progressing: how its rollout keeps up with
    /// the duration model (`rollwatch_verdict::estimate`), timed from when tracking first saw this
    /// generation progressing. A hint only: it never changes how a run ends.
    pub pace: Option<Pace>,
}

/// How tracking ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum End {
    /// Every object reached the goal.
    Ready,
    /// An object failed (or, waiting for readiness, does not exist).
    Failed,
    /// Nothing more will happen by waiting, yet not every object reached the goal (a paused
    /// Deployment; for a one-shot status, objects still progressing).
    NotReady,
    /// The timeout passed first.
    TimedOut,
    /// [`Tracking::interrupt`] was called.
    Interrupted,
    /// Tracking could not go on (the cluster refused access, a kind is unknown, ...).
    Error(Error),
}

/// The final word on one object.
#[derive(Debug, Clone)]
pub struct ObjectOutcome {
    pub object: ObjectRef,
    pub verdict: Verdict,
    /// Whether it reached the goal.
    pub reached: bool,
    /// Since tracking started, when the verdict last changed.
    pub last_change: Duration,
    /// For objects that did not reach the goal: why, with events and logs.
    pub explanation: Option<Explanation>,
}

/// The end of a tracking run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub end: End,
    pub objects: Vec<ObjectOutcome>,
    pub elapsed: Duration,
}

/// A tracking run in progress: a stream of [`Update`]s, then [`Tracking::outcome`].
///
/// Dropping it stops the run and all its feeds.
pub struct Tracking {
    pub(crate) updates: mpsc::UnboundedReceiver<Update>,
    pub(crate) outcome: oneshot::Receiver<Outcome>,
    pub(crate) interrupt: Option<oneshot::Sender<()>>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl Tracking {
    /// The next update; `None` once the run has ended (then call [`Tracking::outcome`]).
    pub async fn next_update(&mut self) -> Option<Update> {
        self.updates.recv().await
    }

    /// Asks the run to stop now; its outcome ends with [`End::Interrupted`].
    pub fn interrupt(&mut self) {
        if let Some(interrupt) = self.interrupt.take() {
            let _ = interrupt.send(());
        }
    }

    /// Waits for the end of the run. Updates not yet read are dropped.
    pub async fn outcome(mut self) -> Outcome {
        match (&mut self.outcome).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome { end: End::Error(Error::cluster("the tracking task stopped without an outcome")), objects: Vec::new(), elapsed: Duration::ZERO },
        }
    }
}

impl futures::Stream for Tracking {
    type Item = Update;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update>> {
        self.updates.poll_recv(cx)
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        self.task.abort();
    }
}
