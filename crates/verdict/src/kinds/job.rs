//! Job (complete, failed with the failing pod's exit code, suspended, backoffLimit, per-index
//! limits, successPolicy, another manager) and CronJob (nothing to wait for).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::api::{CronJob, Job, JobSpec};
use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};

use super::{Context, condition_reason, count, failure_message};
use crate::pods::Trouble;
use crate::{Reason, ReasonCode, State, Verdict};

/// The Job controller's default backoffLimit.
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

pub(crate) fn view(ctx: &Context, job: &Job) -> Verdict {
    let name = &ctx.object.name;
    let default_status = Default::default();
    let status = job.status.as_ref().unwrap_or(&default_status);
    let spec = job.spec.as_ref();
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let holds = |type_: &str| conditions.iter().find(|c| c.type_ == type_ && c.status == "True");
    let succeeded = count(status.succeeded);
    let failed = count(status.failed);
    let completions = spec.and_then(|s| s.completions).map(i64::from);
    let tally = match completions {
        Some(completions) => format!("{succeeded} of {completions} succeeded"),
        None => format!("{succeeded} succeeded"),
    };

    // Since 1.31 Complete and Failed wait until every pod has terminated; SuccessCriteriaMet and
    // FailureTarget tell the outcome as soon as the controller has decided it.
    if holds("Complete").is_some() {
        return Verdict::new(State::Ready, format!("job {name:?} completed: {tally}"));
    }
    if holds("SuccessCriteriaMet").is_some() {
        return Verdict::new(State::Ready, format!("job {name:?} succeeded: {tally} (its remaining pods are terminating)"));
    }
    let manager = spec.and_then(|s| s.managed_by.as_deref()).filter(|m| *m != JOB_CONTROLLER);
    if let Some(manager) = manager {
        return managed_elsewhere(ctx, manager, conditions, &tally);
    }
    if holds("Failed").is_none() && holds("FailureTarget").is_none() && completions.is_some_and(|completions| succeeded >= completions) {
        // A server (or a controller mirroring the status) that wrote the counts but no condition.
        return Verdict::new(State::Ready, format!("job {name:?} completed: {tally}"));
    }
    if holds("Failed").is_none() && holds("FailureTarget").is_none() && spec.is_some_and(|spec| success_policy_met(spec, status)) {
        return Verdict::new(State::Ready, format!("job {name:?} succeeded by its successPolicy: {tally}"));
    }
    // Exits are the Job's to weigh against its backoffLimit; they only tell the exit codes.
    let exits = ctx.assess_with(ctx.owned_pods(), Duration::ZERO, &[Trouble::Scheduling, Trouble::Start, Trouble::Readiness, Trouble::Resize]);
    let exit_reasons = || exits.failures.iter().chain(&exits.pending).cloned();
    let failure = holds("FailureTarget")
        .or_else(|| holds("Failed"))
        .map(|c| condition_reason(ctx.object, ReasonCode::JobFailed.as_str(), c.reason.as_deref(), c.message.as_deref(), c.last_transition_time.as_ref()))
        .or_else(|| limit_exceeded(ctx, job));
    if let Some(reason) = failure {
        let mut message = failure_message("job", name, &reason, 1);
        // The condition says that the Job gave up; the failing pod's exit says why.
        let exits: Vec<Reason> = exit_reasons().collect();
        if let Some(exit) = exits.iter().find(|r| r.exit_code.is_some()) {
            let container = exit.container.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
            message.push_str(&format!("; {}{container}: {}", exit.object, exit.message));
        }
        let reasons = std::iter::once(reason).chain(exits).collect();
        return Verdict::new(State::Failed, message).with_reasons(reasons);
    }
    // Suspension takes effect when the controller confirms it (condition Suspended), and ends
    // when it withdraws it; in between the Job is on its way.
    let suspend = spec.and_then(|s| s.suspend) == Some(true);
    let suspended = conditions.iter().find(|c| c.type_ == "Suspended").map(|c| c.status == "True");
    match (suspend, suspended) {
        (true, Some(false)) => return Verdict::new(State::Progressing, format!("Waiting for job {name:?} to be suspended...")),
        (true, _) => return Verdict::new(State::Paused, format!("job {name:?} is suspended: {tally}")),
        (false, Some(true)) => return Verdict::new(State::Progressing, format!("Waiting for job {name:?} to resume...")),
        (false, _) => {}
    }
    let blocking = ctx.assess_with(ctx.owned_pods(), Duration::ZERO, &[Trouble::Exit, Trouble::PodFailed, Trouble::Readiness]);
    if let Some(first) = blocking.failures.first() {
        let message = failure_message("job", name, first, blocking.failures.len());
        return Verdict::new(State::Failed, message).with_reasons(blocking.failures);
    }
    let message = if status.start_time.is_none() {
        format!("Waiting for job {name:?} to start...")
    } else {
        let terminating = match count(status.terminating) {
            0 => String::new(),
            // With podReplacementPolicy Failed a replacement waits until its pod is gone.
            n if spec.and_then(|s| s.pod_replacement_policy.as_deref()) == Some("Failed") => {
                format!(", {n} terminating (replaced once terminated)")
            }
            n => format!(", {n} terminating"),
        };
        format!("Waiting for job {name:?} to complete: {tally}, {} active, {failed} failed{terminating}...", count(status.active))
    };
    let failed_indexes = status
        .failed_indexes
        .as_deref()
        .filter(|i| !i.is_empty())
        .map(|indexes| Reason::new("FailedIndexes", ctx.object.clone(), format!("indexes {indexes} failed (backoffLimitPerIndex)")));
    let reasons = failed_indexes.into_iter().chain(blocking.pending).chain(exit_reasons()).collect();
    Verdict::new(State::Progressing, message).with_reasons(reasons)
}

/// Kubernetes' job controller, the default `spec.managedBy`.
const JOB_CONTROLLER: &str = "kubernetes.io/job-controller";

/// A Job another controller manages (MultiKueue mirrors one from another cluster): its pods may
/// run elsewhere, so only the manager's conditions are taken, never a judgement of the pods here.
fn managed_elsewhere(ctx: &Context, manager: &str, conditions: &[JobCondition], tally: &str) -> Verdict {
    let name = &ctx.object.name;
    let failed = conditions.iter().find(|c| (c.type_ == "Failed" || c.type_ == "FailureTarget") && c.status == "True");
    if let Some(c) = failed {
        let reason = condition_reason(ctx.object, ReasonCode::JobFailed.as_str(), c.reason.as_deref(), c.message.as_deref(), c.last_transition_time.as_ref());
        let message = format!("job {name:?} failed, as its manager {manager} reports: {}: {}", reason.code, reason.message);
        return Verdict::new(State::Failed, message).with_reasons(vec![reason]);
    }
    let note = format!("managed by {manager}, not Kubernetes' job controller: its Complete or Failed condition decides");
    Verdict::new(State::Progressing, format!("Waiting for job {name:?} to complete: {tally} ({manager} manages it)...")).with_reasons(vec![Reason::new(
        ReasonCode::ManagedElsewhere,
        ctx.object.clone(),
        note,
    )])
}

/// A limit the controller will act on, found before it writes its condition: more failed pods
/// than backoffLimit, more failed indexes than maxFailedIndexes, or activeDeadlineSeconds passed.
fn limit_exceeded(ctx: &Context, job: &Job) -> Option<Reason> {
    let spec = job.spec.as_ref()?;
    let default_status = Default::default();
    let status = job.status.as_ref().unwrap_or(&default_status);
    let failed = count(status.failed);
    if spec.backoff_limit_per_index.is_some() {
        // Per-index limits replace the global backoffLimit (its default then is unlimited).
        let failed_indexes = indexes(status.failed_indexes.as_deref().unwrap_or_default(), spec).len();
        if let Some(max) = spec.max_failed_indexes.filter(|max| usize::try_from(*max).is_ok_and(|max| failed_indexes > max)) {
            let message = format!("{failed_indexes} indexes failed, more than the maxFailedIndexes of {max}");
            return Some(Reason::new(ReasonCode::MaxFailedIndexesExceeded, ctx.object.clone(), message));
        }
    } else {
        let backoff_limit = i64::from(spec.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT));
        if failed > backoff_limit {
            let message = format!("{failed} pods failed, more than the backoffLimit of {backoff_limit}");
            return Some(Reason::new(ReasonCode::BackoffLimitExceeded, ctx.object.clone(), message));
        }
    }
    let deadline = spec.active_deadline_seconds.and_then(|s| u64::try_from(s).ok()).map(Duration::from_secs)?;
    let started = status.start_time.as_ref()?.0;
    (spec.suspend != Some(true) && ctx.clock.lasted(started, deadline)).then(|| {
        // The controller's own words for DeadlineExceeded.
        Reason::new("DeadlineExceeded", ctx.object.clone(), "Job was active longer than specified deadline")
    })
}

/// Whether an Indexed Job's successPolicy holds by its completed indexes, as the controller
/// judges it: a rule holds when enough of its `succeededIndexes` (else of all indexes) completed.
fn success_policy_met(spec: &JobSpec, status: &JobStatus) -> bool {
    let Some(policy) = spec.success_policy.as_ref() else { return false };
    let completed = indexes(status.completed_indexes.as_deref().unwrap_or_default(), spec);
    policy.rules.iter().any(|rule| {
        let wanted = rule.succeeded_indexes.as_deref().map(|list| indexes(list, spec));
        let done = match &wanted {
            Some(wanted) => completed.intersection(wanted).count(),
            None => completed.len(),
        };
        match (rule.succeeded_count, &wanted) {
            (Some(needed), _) => usize::try_from(needed).is_ok_and(|needed| done >= needed),
            (None, Some(wanted)) => !wanted.is_empty() && done >= wanted.len(),
            (None, None) => false,
        }
    })
}

/// The API's bound on an Indexed Job's completions.
const MAX_INDEXED_COMPLETIONS: i64 = 100_000;

/// The indexes a Job's index list (`"1,3-5"`, as in completedIndexes and failedIndexes) names
/// below its `completions` (and the API's bound), so a hostile range cannot run away; what does
/// not parse is left out.
fn indexes(list: &str, spec: &JobSpec) -> BTreeSet<i64> {
    let below = spec.completions.map_or(0, i64::from).min(MAX_INDEXED_COMPLETIONS);
    list.split(',')
        .filter_map(|part| match part.trim().split_once('-') {
            Some((first, last)) => Some(first.parse::<i64>().ok()?.max(0)..=last.parse::<i64>().ok()?.min(below - 1)),
            None => part.trim().parse::<i64>().ok().filter(|index| (0..below).contains(index)).map(|index| index..=index),
        })
        .flatten()
        .collect()
}

pub(crate) fn view_cron(ctx: &Context, cron_job: &CronJob) -> Verdict {
    let name = &ctx.object.name;
    let spec = cron_job.spec.as_ref();
    if spec.and_then(|s| s.suspend) == Some(true) {
        return Verdict::new(State::Paused, format!("cronjob {name:?} is suspended"));
    }
    let schedule = spec.map(|s| s.schedule.as_str()).unwrap_or_default();
    Verdict::new(State::Ready, format!("cronjob {name:?} has nothing to wait for (schedule {schedule:?})"))
}
