//! Reason codes, typed, with their text: rollwatch's own where the cluster has no reason of its
//! own (`NonZeroExit`), or where rollwatch names a kubelet state more precisely than the waiting
//! reason does (`OOMKilled` for a crash loop of OOM kills); and the reasons the cluster writes
//! (`ErrImagePull`, `FailedCreate`, a Job's `BackoffLimitExceeded`), passed on as
//! [`ReasonCode::Reported`].
//!
//! Other crates ask the code what it means (does the container's log explain it?) instead of
//! matching code strings that drift apart from the detectors.

use std::fmt;

use serde::{Serialize, Serializer};

/// The code of a [`Reason`](crate::Reason): one of rollwatch's own, or the cluster's reason as
/// written. Written out (JSON, text) as [`ReasonCode::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReasonCode {
    /// A container waits in CrashLoopBackOff (kubelet's reason, kept as the code).
    CrashLoopBackOff,
    /// A container was killed for running out of memory, once or in a crash loop.
    OomKilled,
    /// A container exited with a non-zero code.
    NonZeroExit,
    /// A container restarted more often than allowed, with clean exits.
    Restarts,
    /// A container was restarted by kubelet after failed liveness probes.
    LivenessProbeFailed,
    /// A running container's readiness probe failed beyond its own window and the grace.
    ReadinessProbeFailing,
    /// A pod failed as a whole, without a reason of its own.
    PodFailed,
    /// A pod waits for scheduling gates that someone else has to remove.
    SchedulingGated,
    /// kubelet cannot resize the pod in place on its node (PodResizePending, Infeasible).
    PodResizeInfeasible,
    /// kubelet defers the pod's resize until its node has room (PodResizePending, Deferred).
    PodResizeDeferred,
    /// kubelet failed to apply the pod's resize (PodResizeInProgress, Error).
    PodResizeError,
    /// The pod is about to be terminated (preemption, eviction, taint, garbage collection).
    DisruptionTarget,
    /// A pod runs an old revision of an OnDelete workload.
    OldRevision,
    /// Old pods are still terminating (status.terminatingReplicas, when waited for).
    TerminatingReplicas,
    /// A Job failed more pods than its backoffLimit before the controller said so.
    BackoffLimitExceeded,
    /// A Job failed without a reason in its condition.
    JobFailed,
    /// A Job's indexes failed more than its maxFailedIndexes before the controller said so.
    MaxFailedIndexesExceeded,
    /// A Job is managed by another controller than Kubernetes' job controller.
    ManagedElsewhere,
    /// A PersistentVolumeClaim lost its bound volume.
    ClaimLost,
    /// A generic resource's Ready condition is not True, without a reason of its own.
    NotReady,
    /// A CustomResourceDefinition is not yet established, without a reason of its own.
    NotEstablished,
    /// A CustomResourceDefinition's names were not accepted, without a reason of its own.
    NamesNotAccepted,
    /// An APIService is not Available, without a reason of its own.
    NotAvailable,
    /// A resource's Stalled condition is True (kstatus), without a reason of its own.
    Stalled,
    /// A resource's Reconciling condition is True (kstatus), without a reason of its own.
    Reconciling,
    /// A custom resource's readiness rule says it failed, without a reason of its own.
    RuleFailed,
    /// A custom resource's readiness rule could not be evaluated on it.
    RuleError,
    /// A custom resource's rollwatch.dev/ready-when or failed-when annotation does not compile.
    InvalidRule,
    /// A custom resource whose CRD declares a status subresource has no status yet.
    AwaitingStatus,
    /// The object is annotated rollwatch.dev/skip: "true" and not waited for.
    Skipped,
    /// Neither the object's status nor its pods' statuses changed for the no-progress timeout.
    NoProgress,
    /// A reason the cluster wrote (a kubelet waiting reason, a condition's or an event's reason)
    /// that is not one of rollwatch's own.
    Reported(String),
}

impl ReasonCode {
    /// Every code of rollwatch's own, for lookups and docs.
    pub const ALL: &'static [ReasonCode] = &[
        Self::CrashLoopBackOff,
        Self::OomKilled,
        Self::NonZeroExit,
        Self::Restarts,
        Self::LivenessProbeFailed,
        Self::ReadinessProbeFailing,
        Self::PodFailed,
        Self::SchedulingGated,
        Self::PodResizeInfeasible,
        Self::PodResizeDeferred,
        Self::PodResizeError,
        Self::DisruptionTarget,
        Self::OldRevision,
        Self::TerminatingReplicas,
        Self::BackoffLimitExceeded,
        Self::JobFailed,
        Self::MaxFailedIndexesExceeded,
        Self::ManagedElsewhere,
        Self::ClaimLost,
        Self::NotReady,
        Self::NotEstablished,
        Self::NamesNotAccepted,
        Self::NotAvailable,
        Self::Stalled,
        Self::Reconciling,
        Self::RuleFailed,
        Self::RuleError,
        Self::InvalidRule,
        Self::AwaitingStatus,
        Self::Skipped,
        Self::NoProgress,
    ];

    /// The code as written in a [`Reason`](crate::Reason) and in JSON output.
    pub fn as_str(&self) -> &str {
        match self {
            Self::CrashLoopBackOff => "CrashLoopBackOff",
            Self::OomKilled => "OOMKilled",
            Self::NonZeroExit => "NonZeroExit",
            Self::Restarts => "Restarts",
            Self::LivenessProbeFailed => "LivenessProbeFailed",
            Self::ReadinessProbeFailing => "ReadinessProbeFailing",
            Self::PodFailed => "PodFailed",
            Self::SchedulingGated => "SchedulingGated",
            Self::PodResizeInfeasible => "PodResizeInfeasible",
            Self::PodResizeDeferred => "PodResizeDeferred",
            Self::PodResizeError => "PodResizeError",
            Self::DisruptionTarget => "DisruptionTarget",
            Self::OldRevision => "OldRevision",
            Self::TerminatingReplicas => "TerminatingReplicas",
            Self::BackoffLimitExceeded => "BackoffLimitExceeded",
            Self::JobFailed => "JobFailed",
            Self::MaxFailedIndexesExceeded => "MaxFailedIndexesExceeded",
            Self::ManagedElsewhere => "ManagedElsewhere",
            Self::ClaimLost => "ClaimLost",
            Self::NotReady => "NotReady",
            Self::NotEstablished => "NotEstablished",
            Self::NamesNotAccepted => "NamesNotAccepted",
            Self::NotAvailable => "NotAvailable",
            Self::Stalled => "Stalled",
            Self::Reconciling => "Reconciling",
            Self::RuleFailed => "RuleFailed",
            Self::RuleError => "RuleError",
            Self::InvalidRule => "InvalidRule",
            Self::AwaitingStatus => "AwaitingStatus",
            Self::Skipped => "Skipped",
            Self::Reported(code) => code,
            Self::NoProgress => "NoProgress",
        }
    }

    /// What the code means, in one line.
    pub fn text(&self) -> &'static str {
        match self {
            Self::CrashLoopBackOff => "a container keeps exiting and kubelet backs off before restarting it",
            Self::OomKilled => "a container was killed for running out of memory",
            Self::NonZeroExit => "a container exited with a non-zero code",
            Self::Restarts => "a container restarted more often than allowed",
            Self::LivenessProbeFailed => "kubelet restarted a container whose liveness probe failed",
            Self::ReadinessProbeFailing => "a running container's readiness probe keeps failing",
            Self::PodFailed => "the pod failed as a whole",
            Self::SchedulingGated => "the pod waits for its scheduling gates to be removed",
            Self::PodResizeInfeasible => "the pod's resize cannot fit its node",
            Self::PodResizeDeferred => "the pod's resize waits for room on its node",
            Self::PodResizeError => "kubelet failed to apply the pod's resize",
            Self::DisruptionTarget => "the pod is about to be terminated",
            Self::OldRevision => "the pod runs an old revision",
            Self::TerminatingReplicas => "old pods are still terminating",
            Self::BackoffLimitExceeded => "more pods failed than the Job's backoffLimit",
            Self::JobFailed => "the Job failed",
            Self::MaxFailedIndexesExceeded => "more indexes failed than the Job's maxFailedIndexes",
            Self::ManagedElsewhere => "another controller than Kubernetes' job controller manages the Job",
            Self::ClaimLost => "the claim's bound volume no longer exists",
            Self::NotReady => "the resource's Ready condition is not True",
            Self::NotEstablished => "the CustomResourceDefinition is not established yet",
            Self::NamesNotAccepted => "the CustomResourceDefinition's names were not accepted",
            Self::NotAvailable => "the APIService is not available",
            Self::Stalled => "the resource's controller says it cannot make progress",
            Self::Reconciling => "the resource's controller is still reconciling it",
            Self::RuleFailed => "a custom resource's readiness rule says it failed",
            Self::RuleError => "the readiness rule could not be evaluated on the object",
            Self::InvalidRule => "the object's rule annotation does not compile",
            Self::AwaitingStatus => "waiting for the controller to report status",
            Self::Skipped => "the object is not waited for (rollwatch.dev/skip)",
            Self::Reported(_) => "the cluster's own reason",
            Self::NoProgress => "nothing about the object or its pods changed for the no-progress timeout",
        }
    }

    /// The code of a code string: rollwatch's own where it is one (kubelet's `CrashLoopBackOff`
    /// and `OOMKilled` are), else the cluster's reason as written.
    pub fn parse(code: &str) -> Self {
        Self::ALL.iter().find(|known| known.as_str() == code).cloned().unwrap_or_else(|| Self::Reported(code.to_string()))
    }

    /// Whether the container's log tells why: it ran and then exited, was restarted, or never
    /// became ready.
    pub fn explained_by_logs(&self) -> bool {
        self.failed_in_previous_instance() || *self == Self::ReadinessProbeFailing
    }

    /// Whether the instance that failed is the container's previous one (it was restarted), so
    /// its log is read with `--previous` first.
    pub fn failed_in_previous_instance(&self) -> bool {
        matches!(self, Self::CrashLoopBackOff | Self::OomKilled | Self::NonZeroExit | Self::Restarts | Self::LivenessProbeFailed)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ReasonCode {
    fn from(code: &str) -> Self {
        Self::parse(code)
    }
}

impl From<String> for ReasonCode {
    fn from(code: String) -> Self {
        Self::parse(&code)
    }
}

impl PartialEq<str> for ReasonCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ReasonCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ReasonCode {
    /// As the code string, the same for rollwatch's codes and the cluster's.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ReasonCode;

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), *code);
            assert!(!code.text().is_empty());
        }
        let reported = ReasonCode::parse("ErrImagePull");
        assert_eq!(reported, ReasonCode::Reported("ErrImagePull".into()), "the cluster's own reasons are not rollwatch's codes");
        assert_eq!(serde_json::to_value(&reported).unwrap(), "ErrImagePull");
        assert_eq!(serde_json::to_value(ReasonCode::OomKilled).unwrap(), "OOMKilled");
    }

    #[test]
    fn a_liveness_restart_is_explained_by_the_previous_instances_log() {
        assert!(ReasonCode::LivenessProbeFailed.explained_by_logs());
        assert!(ReasonCode::LivenessProbeFailed.failed_in_previous_instance());
        assert!(ReasonCode::ReadinessProbeFailing.explained_by_logs());
        assert!(!ReasonCode::ReadinessProbeFailing.failed_in_previous_instance());
        assert!(!ReasonCode::OldRevision.explained_by_logs());
    }
}
