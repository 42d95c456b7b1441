//! What rollwatch answers about one object: a state, a kubectl-style message and the reasons.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::{ObjectRef, ReasonCode};

/// Where an object stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "PascalCase")]
pub enum State {
    /// Done: everything the spec asks for is in place (kubectl's "successfully rolled out").
    Ready,
    /// Still moving towards the spec with nothing wrong found yet.
    Progressing,
    /// Will not get there without a change: see the reasons.
    Failed,
    /// Paused (Deployment) or suspended (Job, CronJob): nothing will move until resumed.
    Paused,
    /// Being deleted.
    Terminating,
    /// The object does not exist (in what was given).
    NotFound,
    /// Nothing can be told (an unknown kind without conditions, a status not yet written).
    Unknown,
}

impl State {
    /// Nothing more will happen by waiting (Ready, Failed, Paused, NotFound).
    pub fn is_final(self) -> bool {
        matches!(self, State::Ready | State::Failed | State::Paused | State::NotFound)
    }
}

/// One concrete thing that is wrong or pending, machine-readable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Machine-readable code: the cluster's reason where it has one (`ImagePullBackOff`,
    /// `OOMKilled`, `ProgressDeadlineExceeded`, `FailedCreate`, `Unschedulable`, ...), else one
    /// of rollwatch's own (`NonZeroExit`, `Restarts`, ...); written out as its string.
    pub code: ReasonCode,
    /// The object this is about (often a pod rather than the workload).
    pub object: ObjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The cluster's own words where it has them.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Since when this has been so, when the cluster says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

impl Reason {
    pub fn new(code: impl Into<ReasonCode>, object: ObjectRef, message: impl Into<String>) -> Self {
        Self { code: code.into(), object, container: None, message: message.into(), exit_code: None, since: None }
    }
}

/// Replica counts of a rollout, where the kind has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Progress {
    pub desired: i64,
    pub updated: i64,
    pub ready: i64,
    pub available: i64,
    /// Replicas of older revisions that still have to go.
    pub old_pending_termination: i64,
}

/// A rollout the controller reports done whose newest pods are still in their settle window
/// ([`crate::Policy::stable_for`]). It holds the end of the window, not the time left, so that the
/// verdict stays the same from one second to the next; [`Settling::left`] counts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settling {
    /// When the last current pod will have been Ready for the window, unless one restarts.
    pub until: Timestamp,
}

impl Settling {
    /// The time left as of `now`, in whole seconds rounded up (never below zero).
    pub fn left(&self, now: Timestamp) -> Duration {
        let left = self.until.duration_since(now);
        let seconds = left.as_secs() + i64::from(left.subsec_nanos() > 0);
        Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
    }
}

/// The answer for one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub state: State,
    /// One line in kubectl's style (for Deployments, StatefulSets and DaemonSets exactly
    /// kubectl's `rollout status` text, without the trailing newline).
    pub message: String,
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// Set while the rollout waits out its settle window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settling: Option<Settling>,
    /// The earliest instant at which the verdict may change by time alone (a grace period running
    /// out, the settle window filling up, a deadline passing) while the objects stay as they are;
    /// `None` when time alone changes nothing. A tracker need not judge the object again before.
    #[serde(skip)]
    pub changes_at: Option<Timestamp>,
}

impl Verdict {
    pub fn new(state: State, message: impl Into<String>) -> Self {
        Self { state, message: message.into(), reasons: Vec::new(), progress: None, settling: None, changes_at: None }
    }

    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn with_settling(mut self, settling: Settling) -> Self {
        self.settling = Some(settling);
        self
    }

    pub fn with_reasons(mut self, reasons: Vec<Reason>) -> Self {
        self.reasons = reasons;
        self
    }
}
