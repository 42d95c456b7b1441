//! The tolerance flags shared by every command that gives verdicts.

use rollwatch_verdict::Policy;

use crate::track_args::parse_humantime;

/// Tolerances, so that a slow image pull or a single restart is not reported as a failure.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Tolerances")]
pub struct PolicyArgs {
    /// Restarts of one container that are tolerated; more count as a failure.
    #[arg(long, value_name = "N", default_value_t = Policy::default().allowed_restarts)]
    pub allowed_restarts: u32,
    /// How long a container may wait on a retried error (ErrImagePull, ImagePullBackOff,
    /// CreateContainerConfigError, ...) before it counts as a failure.
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime, default_value_t = Policy::default().waiting_grace.into())]
    pub waiting_grace: humantime::Duration,
    /// How long a pod may stay Unschedulable (e.g. until an autoscaler adds a node).
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime, default_value_t = Policy::default().unschedulable_grace.into())]
    pub unschedulable_grace: humantime::Duration,
    /// How long a running container may stay not ready beyond its readiness probe's own window.
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime, default_value_t = Policy::default().readiness_grace.into())]
    pub readiness_grace: humantime::Duration,
    /// The settle window: ready only once every current pod has been Ready, without restarts,
    /// for this long (from its own Ready transition); a restart after Ready within it fails the
    /// rollout at once. 0 gives kubectl's instant verdict.
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime, default_value_t = Policy::default().stable_for.into())]
    pub stable_for: humantime::Duration,
    /// Ready only once the old pods of a Deployment or ReplicaSet have terminated, not just
    /// been told to.
    #[arg(long)]
    pub wait_for_terminating: bool,
    /// Fail an object that is not ready once neither its status nor its pods' statuses have
    /// changed for this long (NoProgress). Off by default (0 too); offline `check` counts from
    /// the newest timestamp in those statuses up to --now.
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime)]
    pub no_progress_timeout: Option<humantime::Duration>,
}

impl PolicyArgs {
    pub fn policy(&self) -> Policy {
        Policy {
            allowed_restarts: self.allowed_restarts,
            waiting_grace: self.waiting_grace.into(),
            unschedulable_grace: self.unschedulable_grace.into(),
            readiness_grace: self.readiness_grace.into(),
            stable_for: self.stable_for.into(),
            wait_for_terminating: self.wait_for_terminating,
            no_progress_timeout: self.no_progress_timeout.map(Into::into).filter(|timeout: &std::time::Duration| !timeout.is_zero()),
        }
    }
}
