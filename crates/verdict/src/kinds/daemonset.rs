//! DaemonSet: kubectl's rules (updated / available / desired scheduled), OnDelete, pods its
//! controller cannot create (FailedCreate events, after the grace), and trouble on pods of the
//! newest ControllerRevision.

use crate::api::DaemonSet;

use super::{Context, REVISION_HASH_LABEL, Rollout, count};
use crate::snapshot::Typed;
use crate::{Progress, Verdict};

pub(crate) fn view(ctx: &Context, daemon_set: &DaemonSet) -> Verdict {
    let name = &ctx.object.name;
    let default_status = Default::default();
    let status = daemon_set.status.as_ref().unwrap_or(&default_status);
    let desired = i64::from(status.desired_number_scheduled);
    let updated = count(status.updated_number_scheduled);
    let available = count(status.number_available);
    let progress = Progress {
        desired,
        updated,
        ready: i64::from(status.number_ready),
        available,
        old_pending_termination: (i64::from(status.current_number_scheduled) - updated).max(0),
    };
    let observed = daemon_set.metadata.generation.unwrap_or(0) <= status.observed_generation.unwrap_or(0);
    let strategy = daemon_set.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|s| s.type_.as_deref());
    let update_hash = newest_revision_hash(ctx);
    // The v1.20 controller writes no status while creating pods fails: unobserved counts as short.
    let cannot_create = ctx.cannot_create(None, !observed || i64::from(status.current_number_scheduled) < desired);
    if let Some((reason, true)) = cannot_create {
        return ctx.creation_failed("daemon set", reason, progress);
    }
    if strategy == Some("OnDelete") && observed {
        return ctx.on_delete("daemon set", update_hash, progress);
    }
    let rollout = if !observed {
        Rollout::waiting("Waiting for daemon set spec update to be observed...".into())
    } else if updated < desired {
        Rollout::waiting(format!("Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."))
    } else if available < desired {
        Rollout::waiting(format!("Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."))
    } else {
        Rollout::done(format!("daemon set {name:?} successfully rolled out"))
    };
    let mut pods = ctx.assess(ctx.pods_of_revision(update_hash, observed && updated >= desired));
    pods.pending.extend(cannot_create.map(|(reason, _)| reason));
    ctx.conclude("daemon set", rollout, pods, progress)
}

/// The hash of the DaemonSet's newest ControllerRevision (DaemonSet status has no updateRevision).
fn newest_revision_hash<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    ctx.children()
        .filter_map(|(_, stored)| match &stored.typed {
            Typed::ControllerRevision(revision) => Some(revision.as_ref()),
            _ => None,
        })
        .max_by_key(|revision| revision.revision)?
        .metadata
        .labels
        .as_ref()?
        .get(REVISION_HASH_LABEL)
        .map(String::as_str)
}
