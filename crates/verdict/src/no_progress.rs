//! Stuck is a verdict: an object that is not ready and whose status, and whose pods' statuses,
//! have not changed for the policy's `no_progress_timeout` has failed (`NoProgress`), with its
//! last state ("pod web-x Pending: PodInitializing"). A pod Pending for hours is stuck, not
//! progressing.
//!
//! When the object's family last changed is the caller's to say: a tracker observes changes on
//! its own clock ([`Snapshot::verdict_observed`](crate::Snapshot::verdict_observed)); offline,
//! the newest timestamp its statuses carry stands in for it ([`newest_status_time`]).

use std::time::Duration;

use crate::api::Pod;
use jiff::Timestamp;
use serde_json::Value;

use crate::clock::Clock;
use crate::kinds::humanize;
use crate::pods::ready_since;
use crate::snapshot::{Snapshot, Typed};
use crate::{ObjectRef, Reason, ReasonCode, State, Verdict};

/// `verdict`, failed when it is still progressing and nothing changed since `last_change` for
/// `timeout`. A rollout waiting out its settle window is progressing by design, so it is left
/// alone, as are final verdicts.
pub(crate) fn judge(snapshot: &Snapshot, object: &ObjectRef, verdict: Verdict, timeout: Duration, last_change: Option<Timestamp>, clock: &Clock) -> Verdict {
    if verdict.state != State::Progressing || verdict.settling.is_some() {
        return verdict;
    }
    let Some(since) = last_change.filter(|since| clock.lasted(*since, timeout)) else { return verdict };
    let (about, last_state) = last_state(snapshot, object).unwrap_or_else(|| (object.clone(), verdict.message.clone()));
    let message = format!("no progress for {}: {last_state}", humanize(timeout));
    let reason = Reason { since: Some(since), ..Reason::new(ReasonCode::NoProgress, about, message.clone()) };
    let summary = format!("{} {:?} failed: {message}", object.kind.to_ascii_lowercase(), object.name);
    Verdict { state: State::Failed, message: summary, reasons: vec![reason], progress: verdict.progress, settling: None, changes_at: None }
}

/// The newest timestamp in the statuses of `object` and everything it owns (conditions'
/// transitions and updates, pods' and containers' starts and ends), or their creation: offline,
/// the latest moment anything is known to have changed.
pub(crate) fn newest_status_time(snapshot: &Snapshot, object: &ObjectRef) -> Option<Timestamp> {
    let mut times = Vec::new();
    for member in snapshot.family(object) {
        let Some(stored) = snapshot.stored(&member) else { continue };
        times.extend(stored.typed.metadata().creation_timestamp.as_ref().map(|t| t.0));
        status_times(&stored.typed, &mut times);
    }
    times.into_iter().max()
}

fn status_times(typed: &Typed, times: &mut Vec<Timestamp>) {
    match typed {
        Typed::Generic(o) => {
            let conditions = o.status.iter().flat_map(|status| &status.conditions);
            times.extend(conditions.filter_map(|c| c.last_transition_time.as_ref()).map(|t| t.0));
        }
        _ => collect_times(&typed.status_value().unwrap_or_default(), times),
    }
}

/// Every timestamp field (`...Time`, `...At`) in a status, however deep.
fn collect_times(value: &Value, times: &mut Vec<Timestamp>) {
    match value {
        Value::Object(fields) => {
            for (field, value) in fields {
                match value {
                    Value::String(text) if field.ends_with("Time") || field.ends_with("At") => times.extend(text.parse::<Timestamp>().ok()),
                    _ => collect_times(value, times),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_times(item, times)),
        _ => {}
    }
}

/// The first of the object's pods (by name) that is not Ready, and what it waits on; `None`
/// when every pod is Ready or there is none.
fn last_state(snapshot: &Snapshot, object: &ObjectRef) -> Option<(ObjectRef, String)> {
    let mut family = snapshot.family(object);
    family.sort();
    family.into_iter().find_map(|member| match &snapshot.stored(&member)?.typed {
        Typed::Pod(pod) if ready_since(pod).is_none() => {
            let state = describe(&member.name, pod);
            Some((member, state))
        }
        _ => None,
    })
}

/// `pod web-x Pending: PodInitializing`: the phase, then the first container's waiting reason,
/// else why it is not scheduled or not ready.
fn describe(name: &str, pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    let containers = status.into_iter().flat_map(|s| s.init_container_statuses.iter().flatten().chain(s.container_statuses.iter().flatten()));
    let waiting = containers.filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref()).next();
    let conditions = status.and_then(|s| s.conditions.as_ref()).into_iter().flatten();
    let unmet = conditions.filter(|c| c.status == "False" && ["PodScheduled", "Initialized", "Ready"].contains(&c.type_.as_ref())).find_map(|c| c.reason());
    match waiting.or(unmet) {
        Some(detail) => format!("pod {name} {phase}: {detail}"),
        None => format!("pod {name} {phase}"),
    }
}
