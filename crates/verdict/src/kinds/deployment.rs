//! Deployment: done exactly when `kubectl rollout status` says so; failed on
//! ProgressDeadlineExceeded, ReplicaFailure (after the waiting grace), or trouble on the new
//! ReplicaSet's pods.

use crate::api::{Deployment, ReplicaSet, Uid};
use crate::api::{PodTemplateSpec, TemplateDigest};
use crate::history::REVISION_ANNOTATION;

use super::{Context, PodsAssessment, Rollout, condition_reason, count, live_pods};
use crate::snapshot::Typed;
use crate::{Progress, State, Verdict};

pub(crate) fn view(ctx: &Context, deployment: &Deployment) -> Verdict {
    let name = &ctx.object.name;
    let default_status = Default::default();
    let status = deployment.status.as_ref().unwrap_or(&default_status);
    // kubectl skips the updated-replicas check when spec.replicas is unset; the API server
    // defaults it to 1, so only a hand-written manifest without status can tell the difference.
    let desired = i64::from(deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1));
    let updated = count(status.updated_replicas);
    let replicas = count(status.replicas);
    let available = count(status.available_replicas);
    let progress = Progress { desired, updated, ready: count(status.ready_replicas), available, old_pending_termination: (replicas - updated).max(0) };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let find = |type_: &str| conditions.iter().find(|c| c.type_ == type_);
    let observed = deployment.metadata.generation.unwrap_or(0) <= status.observed_generation.unwrap_or(0);

    if observed && let Some(deadline) = find("Progressing").filter(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
        let reason = condition_reason(
            ctx.object,
            "ProgressDeadlineExceeded",
            deadline.reason.as_deref(),
            deadline.message.as_deref(),
            deadline.last_transition_time.as_ref(),
        );
        return Verdict::new(State::Failed, format!("deployment {name:?} exceeded its progress deadline")).with_reasons(vec![reason]).with_progress(progress);
    }
    let new_replica_set = new_replica_set(ctx, deployment);
    let failure = find("ReplicaFailure")
        .filter(|c| c.status == "True")
        .map(|c| condition_reason(ctx.object, "ReplicaFailure", c.reason.as_deref(), c.message.as_deref(), c.last_transition_time.as_ref()));
    let failure = failure.or_else(|| {
        let (key, replica_set) = new_replica_set?;
        let c = replica_set.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "ReplicaFailure" && c.status == "True")?;
        Some(condition_reason(key, "ReplicaFailure", c.reason.as_deref(), c.message.as_deref(), c.last_transition_time.as_ref()))
    });
    let cannot_create = ctx.cannot_create(failure, false);
    if let Some((reason, true)) = cannot_create {
        return ctx.creation_failed("deployment", reason, progress);
    }

    let rollout = if !observed {
        Rollout::waiting("Waiting for deployment spec update to be observed...".into())
    } else if updated < desired {
        Rollout::waiting(format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {desired} new replicas have been updated..."))
    } else if replicas > updated {
        Rollout::waiting(format!("Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...", replicas - updated))
    } else if available < updated {
        Rollout::waiting(format!("Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."))
    } else {
        Rollout::done(format!("deployment {name:?} successfully rolled out"))
    };
    let mut pods = match new_replica_set {
        Some((_, replica_set)) => ctx.assess(live_pods(ctx.snapshot.children_of(replica_set.metadata.uid.as_ref()))),
        None => PodsAssessment::default(),
    };
    pods.pending.extend(cannot_create.map(|(reason, _)| reason));
    let replica_set_uids: Vec<Option<&Uid>> = ctx.children().map(|(_, stored)| stored.uid()).collect();
    let rollout = ctx.terminating_hold("deployment", rollout, status.terminating_replicas, &replica_set_uids, &mut pods);
    if deployment.spec.as_ref().and_then(|s| s.paused) == Some(true) && !rollout.done && pods.failures.is_empty() {
        let message = format!("deployment {name:?} is paused: {}", rollout.message);
        return Verdict::new(State::Paused, message).with_reasons(pods.pending).with_progress(progress);
    }
    ctx.conclude("deployment", rollout, pods, progress)
}

/// The ReplicaSet of the Deployment's current template: the newest revision among the ones it
/// owns, provided its template is the Deployment's (else the controller has not made it yet).
fn new_replica_set<'a>(ctx: &Context<'a>, deployment: &Deployment) -> Option<(&'a crate::ObjectRef, &'a ReplicaSet)> {
    let revision =
        |rs: &ReplicaSet| -> i64 { rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).and_then(|r| r.parse().ok()).unwrap_or(0) };
    let (key, newest) = ctx
        .children()
        .filter_map(|(key, stored)| match &stored.typed {
            Typed::ReplicaSet(rs) => Some((key, rs.as_ref())),
            _ => None,
        })
        .max_by_key(|(_, rs)| revision(rs))?;
    let template = &deployment.spec.as_ref()?.template;
    let newest_template = newest.spec.as_ref()?.template?;
    same_template_ignoring_hash(newest_template, template).then_some((key, newest))
}

/// Equal templates apart from the `pod-template-hash` label the controller adds to its
/// ReplicaSets: compared whole, as read (see [`PodTemplateSpec::digest`]).
fn same_template_ignoring_hash(replica_set: TemplateDigest, deployment: &PodTemplateSpec) -> bool {
    replica_set.0 == deployment.digest
}
