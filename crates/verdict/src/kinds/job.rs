//! Job (complete, failed with the failing pod's exit code, suspended, backoffLimit) and CronJob
//! (nothing to wait for).

use std::time::Duration;

use k8s_openapi::api::batch::v1::{CronJob, Job};

use super::{Context, condition_reason, count, failure_message};
use crate::pods::Trouble;
use crate::{Reason, State, Verdict};

/// The Job controller's default backoffLimit.
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

pub(super) fn view(ctx: &Context, job: &Job) -> Verdict {
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

    if holds("Complete").is_some() {
        return Verdict::new(State::Ready, format!("job {name:?} completed: {tally}"));
    }
    // Exits are the Job's to weigh against its backoffLimit; they only tell the exit codes.
    let exits = ctx.assess_with(ctx.owned_pods(), Duration::ZERO, &[Trouble::Scheduling, Trouble::Start, Trouble::Readiness]);
    let exit_reasons = || exits.failures.iter().chain(&exits.pending).cloned();
    let backoff_limit = i64::from(spec.and_then(|s| s.backoff_limit).unwrap_or(DEFAULT_BACKOFF_LIMIT));
    let failure = holds("Failed")
        .map(|c| condition_reason(ctx.object, "JobFailed", c.reason.as_ref(), c.message.as_ref(), c.last_transition_time.as_ref()))
        .or_else(|| {
            (failed > backoff_limit).then(|| {
                let message = format!("{failed} pods failed, more than the backoffLimit of {backoff_limit}");
                Reason::new("BackoffLimitExceeded", ctx.object.clone(), message)
            })
        });
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
        format!("Waiting for job {name:?} to complete: {tally}, {} active, {failed} failed...", count(status.active))
    };
    Verdict::new(State::Progressing, message).with_reasons(blocking.pending.into_iter().chain(exit_reasons()).collect())
}

pub(super) fn view_cron(ctx: &Context, cron_job: &CronJob) -> Verdict {
    let name = &ctx.object.name;
    let spec = cron_job.spec.as_ref();
    if spec.and_then(|s| s.suspend) == Some(true) {
        return Verdict::new(State::Paused, format!("cronjob {name:?} is suspended"));
    }
    let schedule = spec.map(|s| s.schedule.as_str()).unwrap_or_default();
    Verdict::new(State::Ready, format!("cronjob {name:?} has nothing to wait for (schedule {schedule:?})"))
}
