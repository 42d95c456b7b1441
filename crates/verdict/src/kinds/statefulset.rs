//! StatefulSet: kubectl's rules (partition, updateRevision vs currentRevision), plus
//! ordinals.start under a partition, pods its controller cannot create (FailedCreate events,
//! after the waiting grace), minReadySeconds, extra pods still terminating, OnDelete, and trouble
//! on updated pods.

use std::time::Duration;

use crate::api::StatefulSet;

use super::{Context, Rollout, count};
use crate::{Progress, Verdict};

pub(crate) fn view(ctx: &Context, stateful_set: &StatefulSet) -> Verdict {
    let default_spec = Default::default();
    let spec = stateful_set.spec.as_ref().unwrap_or(&default_spec);
    let default_status = Default::default();
    let status = stateful_set.status.as_ref().unwrap_or(&default_status);
    let desired = i64::from(spec.replicas.unwrap_or(1));
    let updated = count(status.updated_replicas);
    let ready = count(status.ready_replicas);
    let progress = Progress {
        desired,
        updated,
        ready,
        available: status.available_replicas.map_or(ready, i64::from),
        old_pending_termination: (i64::from(status.replicas) - updated).max(0),
    };
    let strategy = spec.update_strategy.as_ref();
    // The API server defaults a missing strategy to RollingUpdate.
    let strategy_type = strategy.and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate");
    let update_revision = status.update_revision.as_deref();
    let observed_generation = status.observed_generation.unwrap_or(0);
    let observed = observed_generation != 0 && stateful_set.metadata.generation.unwrap_or(0) <= observed_generation;
    let cannot_create = ctx.cannot_create(None, i64::from(status.replicas) < desired);
    if let Some((reason, true)) = cannot_create {
        return ctx.creation_failed("statefulset", reason, progress);
    }
    if strategy_type == "OnDelete" && observed {
        return ctx.on_delete("statefulset", update_revision, progress);
    }
    let min_ready = Duration::from_secs(u64::try_from(spec.min_ready_seconds.unwrap_or(0)).unwrap_or(0));
    let mut pods = ctx.assess_with(ctx.pods_of_revision(update_revision, false), min_ready, &[]);
    pods.pending.extend(cannot_create.map(|(reason, _)| reason));

    // Pods at or above the partition; int32 arithmetic wraps in kubectl (Go), so it does here.
    // The partition is an ordinal: with ordinals.start (1.27+) the pods are numbered from there,
    // which kubectl overlooks (start 5, partition 6: pods 6 and 7 of 5..=7 update).
    let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let above_partition = rolling
        .and_then(|rolling| spec.replicas.zip(rolling.partition))
        .map(|(replicas, partition)| replicas.wrapping_sub(partition.saturating_sub(start).max(0)));
    let rollout = if !observed {
        Rollout::waiting("Waiting for statefulset spec update to be observed...".into())
    } else if ready < desired {
        // kubectl skips this when spec.replicas is unset; the API server defaults it to 1.
        Rollout::waiting(format!("Waiting for {} pods to be ready...", desired - ready))
    } else if rolling.is_some() {
        match above_partition {
            Some(above_partition) if updated < i64::from(above_partition) => {
                Rollout::waiting(format!("Waiting for partitioned roll out to finish: {updated} out of {above_partition} new pods have been updated..."))
            }
            _ => Rollout::done(format!("partitioned roll out complete: {updated} new pods have been updated...")),
        }
    } else if update_revision != status.current_revision.as_deref() {
        Rollout::waiting(format!("waiting for statefulset rolling update to complete {updated} pods at revision {}...", update_revision.unwrap_or_default()))
    } else {
        Rollout::done(format!(
            "statefulset rolling update complete {} pods at revision {}...",
            count(status.current_replicas),
            status.current_revision.as_deref().unwrap_or_default()
        ))
    };
    let rollout = if rollout.done { beyond_kubectl(status, desired, min_ready, pods.observed, pods.stable).unwrap_or(rollout) } else { rollout };
    // Only the pods above the partition take the update: the settle window waits for those.
    let updating = above_partition.map_or(desired, |above| i64::from(above).clamp(0, desired));
    ctx.conclude_settling("statefulset", rollout, pods, progress, usize::try_from(updating).unwrap_or(0))
}

/// What kubectl does not wait for: pods above the desired count still terminating, and
/// minReadySeconds (from availableReplicas where the API has it, else from the pods' Ready times).
fn beyond_kubectl(
    status: &k8s_openapi::api::apps::v1::StatefulSetStatus,
    desired: i64,
    min_ready: Duration,
    observed_pods: usize,
    pods_ready_long_enough: usize,
) -> Option<Rollout> {
    let extra = i64::from(status.replicas) - desired;
    if extra > 0 {
        return Some(Rollout::waiting(format!("Waiting for {extra} extra pods to terminate...")));
    }
    if min_ready.is_zero() {
        return None;
    }
    let available = match status.available_replicas {
        Some(available) => i64::from(available),
        None if observed_pods > 0 => pods_ready_long_enough as i64,
        None => return None,
    };
    (available < desired).then(|| Rollout::waiting(format!("Waiting for {} pods to be available (ready for {}s)...", desired - available, min_ready.as_secs())))
}
