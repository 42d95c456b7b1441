//! The tolerance flags shared by every command that gives verdicts.

use std::sync::Arc;

use rollwatch_verdict::Policy;
use rollwatch_verdict::rules::RuleSet;

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
    /// Readiness rules for custom resources, in CEL (`rules: [{group, kind, ready, failed,
    /// progressing, paused, message, reason}]`), added to the built-in ones; a rule for a group and
    /// kind replaces the one before it. Repeatable. `rollwatch rules` lists the rules in force.
    #[arg(long = "rules", value_name = "FILE", value_parser = load_rules, help_heading = "Custom resources")]
    pub rules: Vec<Arc<RuleSet>>,
}

/// Reads and compiles a rules file, so that a rule that does not compile is a usage error (exit 2)
/// naming the file, the rule, the field and the position before anything else happens.
pub fn load_rules(path: &str) -> Result<Arc<RuleSet>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    RuleSet::default().with_file(&text, path).map(Arc::new).map_err(|e| e.to_string())
}

/// The built-in rules with those of `files` over them, in order.
pub fn rules_in_force(files: &[Arc<RuleSet>]) -> Arc<RuleSet> {
    files.iter().fold(RuleSet::builtin(), |rules, more| Arc::new(rules.with_rules(more)))
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
            rules: rules_in_force(&self.rules),
            no_progress_timeout: self.no_progress_timeout.map(Into::into).filter(|timeout: &std::time::Duration| !timeout.is_zero()),
        }
    }
}
