//! ReplicaSet on its own (one owned by a Deployment is judged through the Deployment): kubectl-style
//! counts, and pods its controller cannot create (ReplicaFailure, FailedCreate) after the grace.

use crate::api::ReplicaSet;

use super::{Context, Rollout, condition_reason, count};
use crate::{Progress, Verdict};

pub(crate) fn view(ctx: &Context, replica_set: &ReplicaSet) -> Verdict {
    let name = &ctx.object.name;
    let default_status = Default::default();
    let status = replica_set.status.as_ref().unwrap_or(&default_status);
    let desired = i64::from(replica_set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1));
    let replicas = i64::from(status.replicas);
    let available = count(status.available_replicas);
    let progress = Progress {
        desired,
        updated: replicas.min(desired),
        ready: count(status.ready_replicas),
        available,
        old_pending_termination: (replicas - desired).max(0),
    };
    let condition = status.conditions.iter().flatten().find(|c| c.type_ == "ReplicaFailure" && c.status == "True");
    let condition =
        condition.map(|c| condition_reason(ctx.object, "ReplicaFailure", c.reason.as_deref(), c.message.as_deref(), c.last_transition_time.as_ref()));
    let cannot_create = ctx.cannot_create(condition, replicas < desired);
    if let Some((reason, true)) = cannot_create {
        return ctx.creation_failed("replica set", reason, progress);
    }
    let observed = replica_set.metadata.generation.unwrap_or(0) <= status.observed_generation.unwrap_or(0);
    let rollout = if !observed {
        Rollout::waiting("Waiting for replica set spec update to be observed...".into())
    } else if progress.ready < desired {
        Rollout::waiting(format!("Waiting for replica set {name:?} rollout to finish: {} of {desired} replicas are ready...", progress.ready))
    } else if available < desired {
        Rollout::waiting(format!("Waiting for replica set {name:?} rollout to finish: {available} of {desired} replicas are available..."))
    } else if replicas > desired {
        Rollout::waiting(format!("Waiting for replica set {name:?} rollout to finish: {} extra replicas are pending termination...", replicas - desired))
    } else {
        Rollout::done(format!("replica set {name:?} successfully rolled out"))
    };
    let mut pods = ctx.assess(ctx.owned_pods());
    pods.pending.extend(cannot_create.map(|(reason, _)| reason));
    let rollout = ctx.terminating_hold("replica set", rollout, status.terminating_replicas, &[replica_set.metadata.uid.as_ref()], &mut pods);
    ctx.conclude("replica set", rollout, pods, progress)
}
