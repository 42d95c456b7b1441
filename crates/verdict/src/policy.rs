//! Tolerances: how much trouble a pod may show before it counts as a failure.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::rules::RuleSet;

/// The default settle window, as issue #11 asked: long enough for the deaths that follow Ready
/// within seconds (a crash on the first connection or request, an OOM kill as a cache fills, a
/// liveness probe with a short period), short enough to cost little: it counts from each pod's
/// own Ready transition, so a rollout waits at most this long more, once, at the end.
const DEFAULT_SETTLE_WINDOW: Duration = Duration::from_secs(10);

/// Tolerances, so that a slow image pull or a single restart is not reported as a failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// Restarts of one container of a current pod that are tolerated; more count as a failure.
    pub allowed_restarts: u32,
    /// How long a container may wait with a failure reason (ErrImagePull, CreateContainerError,
    /// ...) before it counts: kubelet retries these, and some resolve (a pushed image, a created
    /// Secret). CrashLoopBackOff, InvalidImageName, ErrImageNeverPull and SignatureValidationFailed
    /// never resolve by themselves and count at once.
    pub waiting_grace: Duration,
    /// How long a pod may stay Unschedulable before it counts: an autoscaler may add a node.
    pub unschedulable_grace: Duration,
    /// How long a running container may stay not-ready beyond its readiness probe's own window
    /// (`initialDelaySeconds + failureThreshold × periodSeconds`) before it counts.
    pub readiness_grace: Duration,
    /// The settle window: a rollout is ready only once every current pod has been Ready, without
    /// restarts, for this long, counted from each pod's own Ready transition; a current pod that
    /// restarts after becoming Ready and within the window fails the rollout at once. A pod that
    /// dies seconds after Ready is not up, whatever kubectl says at the moment it was Ready. Zero
    /// gives kubectl's instant verdict (and leaves every restart to `allowed_restarts`).
    pub stable_for: Duration,
    /// When set, a Deployment or ReplicaSet is ready only once the pods it scaled down are gone
    /// (`status.terminatingReplicas`, else its pods being deleted): for rollouts whose old pods
    /// hold something the new ones need (a volume, a lock, a license).
    pub wait_for_terminating: bool,
    /// The readiness rules of custom resources: the built-ins, with those of `--rules` files.
    #[serde(skip)]
    pub rules: Arc<RuleSet>,
    /// When set, an object that is not ready and whose status, and whose pods' statuses, have
    /// not changed for this long has failed (`NoProgress`): a pod Pending or PodInitializing for
    /// hours is stuck, not progressing. Off by default: a large image pull or a long init
    /// container changes no status for as long as it takes, and a live wait is bounded by its
    /// timeout (a Deployment also by its progressDeadlineSeconds) anyway.
    pub no_progress_timeout: Option<Duration>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allowed_restarts: 1,
            waiting_grace: Duration::from_secs(60),
            unschedulable_grace: Duration::from_secs(120),
            readiness_grace: Duration::from_secs(30),
            stable_for: DEFAULT_SETTLE_WINDOW,
            wait_for_terminating: false,
            rules: RuleSet::builtin(),
            no_progress_timeout: None,
        }
    }
}
