//! One small viewer per kind, in the manner of kubectl's `rollout status`, picked by the kind's
//! row in the [registry](crate::registry); and what they share: reading the current pods and
//! concluding. A new kind's viewer is a file here, named in its row.

pub(crate) mod apiservice;
pub(crate) mod autoscaler;
pub(crate) mod crd;
pub(crate) mod daemonset;
pub(crate) mod deployment;
mod generic;
pub(crate) mod job;
pub(crate) mod pod;
pub(crate) mod replicaset;
pub(crate) mod service;
pub(crate) mod statefulset;

pub(crate) use generic::{GenericStatus, view as view_generic};

use std::time::Duration;

use crate::api::{Pod, Uid};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::clock::Clock;
use crate::history::REVISION_HASH_LABEL;
use crate::pods::{self, PodFacts, Trouble};
use crate::snapshot::{Snapshot, Stored, Typed};
use crate::{ObjectRef, Policy, Progress, Reason, ReasonCode, Settling, State, Verdict};

/// What a viewer may read: the object, its family in the snapshot, the tolerances and the clock
/// (every rule that reads the time asks it, so the verdict knows when it would change).
pub(crate) struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub object: &'a ObjectRef,
    pub stored: &'a Stored,
    pub policy: &'a Policy,
    pub clock: &'a Clock,
}

/// The verdict for the context's object, by the viewer of its kind's row; kinds without one
/// (custom resources, kinds read by their conditions) by the generic conditions viewer.
pub(crate) fn view(ctx: &Context) -> Verdict {
    match ctx.object.row().and_then(|row| row.view) {
        Some(view) => view(ctx),
        // A custom resource's readiness rule (built-in, --rules or its annotations), else the
        // generic conditions.
        None => match &ctx.stored.typed {
            Typed::Generic(generic) => crate::rules::view(ctx, generic).unwrap_or_else(|| view_generic(ctx)),
            _ => view_generic(ctx),
        },
    }
}

/// Objects that only support others' verdicts (ControllerRevisions, Events).
pub(crate) fn view_nothing_to_wait_for(ctx: &Context) -> Verdict {
    Verdict::new(State::Ready, format!("{} has no rollout: nothing to wait for", ctx.object))
}

/// kubectl's answer for a rollout: its message (without the trailing newline) and done flag.
pub(crate) struct Rollout {
    pub message: String,
    pub done: bool,
}

impl Rollout {
    fn waiting(message: String) -> Self {
        Self { message, done: false }
    }

    fn done(message: String) -> Self {
        Self { message, done: true }
    }
}

/// What the detectors found on a workload's current-revision pods.
#[derive(Default)]
pub(crate) struct PodsAssessment {
    /// Trouble past tolerance: the rollout has failed.
    pub failures: Vec<Reason>,
    /// Trouble within tolerance: shown while the rollout progresses.
    pub pending: Vec<Reason>,
    /// Current pods seen (not being deleted).
    pub observed: usize,
    /// Of those, pods Ready for at least the stable window.
    pub stable: usize,
    /// When the last of the Ready pods still inside the window will have settled.
    pub settles_at: Option<Timestamp>,
}

impl<'a> Context<'a> {
    /// The objects this object owns, by its uid.
    fn children(&self) -> impl Iterator<Item = (&'a ObjectRef, &'a Stored)> + use<'a> {
        self.snapshot.children_of(self.stored.uid())
    }

    /// The pods this object owns directly, not being deleted.
    fn owned_pods(&self) -> impl Iterator<Item = (&'a ObjectRef, &'a Pod)> + use<'a> {
        live_pods(self.children())
    }

    /// Runs the pod detectors over `pods` (the current revision's).
    fn assess<'p>(&self, pods: impl Iterator<Item = (&'p ObjectRef, &'p Pod)>) -> PodsAssessment {
        self.assess_with(pods, Duration::ZERO, &[])
    }

    /// Like [`Context::assess`], counting as stable only pods Ready for at least `min_ready`
    /// (the workload's own minReadySeconds) or the policy's stable window, whichever is longer,
    /// and leaving out the kinds of trouble the workload weighs by itself (`ignored`).
    fn assess_with<'p>(&self, pods: impl Iterator<Item = (&'p ObjectRef, &'p Pod)>, min_ready: Duration, ignored: &[Trouble]) -> PodsAssessment {
        let window = self.policy.stable_for.max(min_ready);
        let mut assessment = PodsAssessment::default();
        for (key, pod) in pods {
            let facts = PodFacts {
                pod,
                object: key.clone(),
                events: self.snapshot.events_about(key).collect(),
                nodes: self.snapshot.node_allocatable(),
                autoscaler: self.snapshot.autoscaler(),
            };
            for finding in pods::findings(&facts, self.policy, self.clock).into_iter().filter(|f| !ignored.contains(&f.trouble)) {
                let list = if finding.counts { &mut assessment.failures } else { &mut assessment.pending };
                list.push(finding.reason);
            }
            assessment.observed += 1;
            if pods::stable_for(&facts, window, self.clock) {
                assessment.stable += 1;
            } else if let Some(at) = pods::settles_at(&facts, window) {
                assessment.settles_at = assessment.settles_at.max(Some(at));
            }
        }
        assessment
    }

    /// The common ending of a workload viewer: failed when current pods fail, else kubectl's
    /// answer, held back until `desired` pods are through the settle window. Without any current
    /// pod to read (a dump of only the workloads) the window cannot be told, and kubectl's answer
    /// stands.
    fn conclude(&self, noun: &str, rollout: Rollout, pods: PodsAssessment, progress: Progress) -> Verdict {
        let desired = usize::try_from(progress.desired).unwrap_or(0);
        self.conclude_settling(noun, rollout, pods, progress, desired)
    }

    /// [`Self::conclude`] for a rollout that updates only `updating` of the desired pods (a
    /// StatefulSet's partition): the window waits for those.
    fn conclude_settling(&self, noun: &str, rollout: Rollout, pods: PodsAssessment, progress: Progress, updating: usize) -> Verdict {
        let name = &self.object.name;
        if let Some(first) = pods.failures.first() {
            return Verdict::new(State::Failed, failure_message(noun, name, first, pods.failures.len())).with_reasons(pods.failures).with_progress(progress);
        }
        if !rollout.done {
            return Verdict::new(State::Progressing, rollout.message).with_reasons(pods.pending).with_progress(progress);
        }
        let window = self.policy.stable_for;
        if !window.is_zero() && pods.observed > 0 && pods.stable < updating {
            let message = format!("Waiting for {noun} {name:?} to be stable: {} of {updating} pods ready for {}...", pods.stable, humanize(window));
            let verdict = Verdict::new(State::Progressing, message).with_reasons(pods.pending).with_progress(progress);
            return match pods.settles_at {
                Some(until) => verdict.with_settling(Settling { until }),
                None => verdict,
            };
        }
        Verdict::new(State::Ready, rollout.message).with_progress(progress)
    }
}

impl Context<'_> {
    /// OnDelete: the controller replaces a pod only when someone deletes it, so kubectl refuses
    /// to answer; rollwatch tells what is true: which pods still run an old revision (Paused:
    /// nothing changes until they are deleted), or, once none do, whether all are ready.
    /// Without the pods or the revision, the status counts tell how many are old.
    fn on_delete(&self, noun: &str, update_hash: Option<&str>, progress: Progress) -> Verdict {
        let name = &self.object.name;
        let pods: Vec<_> = self.owned_pods().collect();
        let stale: Vec<Reason> = match update_hash {
            Some(hash) => pods
                .iter()
                .filter(|(_, pod)| revision_hash(pod) != Some(hash))
                .map(|(key, pod)| {
                    let runs = revision_hash(pod).unwrap_or("unknown");
                    Reason::new(ReasonCode::OldRevision, (*key).clone(), format!("runs revision {runs}, not the current {hash}"))
                })
                .collect(),
            None => Vec::new(),
        };
        let stale_count = match update_hash {
            Some(_) if !pods.is_empty() => stale.len() as i64,
            _ => progress.old_pending_termination,
        };
        let current = self.assess(self.pods_of_revision(update_hash, stale_count == 0));
        if stale_count > 0 && current.failures.is_empty() {
            let message = format!(
                "{noun} {name:?} uses the OnDelete update strategy: {stale_count} of {} pods still run an old revision (delete them to update)",
                progress.desired
            );
            let reasons = stale.into_iter().chain(current.pending).collect();
            return Verdict::new(State::Paused, message).with_reasons(reasons).with_progress(progress);
        }
        let rollout = if progress.ready < progress.desired {
            Rollout::waiting(format!("Waiting for {} pods to be ready...", progress.desired - progress.ready))
        } else {
            Rollout::done(format!("{noun} {name:?}: all {} pods run the current revision", progress.desired))
        };
        self.conclude(noun, rollout, current, progress)
    }

    /// Owned pods made from revision `hash`; all owned pods when `hash` is unknown but the
    /// controller reports every pod updated; none otherwise (old pods never count).
    fn pods_of_revision<'s>(&'s self, hash: Option<&'s str>, all_updated: bool) -> impl Iterator<Item = (&'s ObjectRef, &'s Pod)> {
        self.owned_pods().filter(move |(_, pod)| match hash {
            Some(hash) => revision_hash(pod) == Some(hash),
            None => all_updated,
        })
    }
}

impl Context<'_> {
    /// With the policy's `wait_for_terminating`, holds a finished rollout back while pods the
    /// workload scaled down still terminate: `reported` (status.terminatingReplicas, 1.33+) or,
    /// from servers without it, the pods of `owner_uids` being deleted.
    fn terminating_hold(&self, noun: &str, rollout: Rollout, reported: Option<i32>, owner_uids: &[Option<&Uid>], pods: &mut PodsAssessment) -> Rollout {
        if !rollout.done || !self.policy.wait_for_terminating {
            return rollout;
        }
        let terminating = match reported {
            Some(reported) => i64::from(reported),
            None => owner_uids
                .iter()
                .flat_map(|uid| self.snapshot.children_of(*uid))
                .filter(|(_, stored)| stored.deleting() && matches!(stored.typed, Typed::Pod(_)))
                .count() as i64,
        };
        if terminating <= 0 {
            return rollout;
        }
        let name = &self.object.name;
        let message = format!("{terminating} old pods are still terminating");
        pods.pending.push(Reason::new(ReasonCode::TerminatingReplicas, self.object.clone(), message.clone()));
        Rollout::waiting(format!("Waiting for {noun} {name:?} rollout to finish: {message}..."))
    }

    /// The controller says it cannot create pods (quota exceeded, admission denied, a missing
    /// ServiceAccount): the ReplicaFailure condition where the kind has one (`condition`), else,
    /// while the workload is `short_of_pods`, its latest FailedCreate event. Whether it counts:
    /// after the waiting grace, since quota may be freed or the ServiceAccount created meanwhile.
    fn cannot_create(&self, condition: Option<Reason>, short_of_pods: bool) -> Option<(Reason, bool)> {
        let reason = condition.or_else(|| if short_of_pods { self.failed_create_event() } else { None })?;
        let counts = reason.since.is_none_or(|since| self.clock.lasted(since, self.policy.waiting_grace));
        Some((reason, counts))
    }

    /// The latest FailedCreate warning about this object, with since when it repeats.
    fn failed_create_event(&self) -> Option<Reason> {
        let event = self.snapshot.events_about(self.object).filter(|e| e.reason.as_deref() == Some(FAILED_CREATE)).max_by_key(|e| e.last_seen())?;
        let message = event.message.as_deref().unwrap_or("the controller failed to create a pod").trim_end();
        let mut reason = Reason::new(FAILED_CREATE, self.object.clone(), message);
        reason.since = event.first_timestamp.as_ref().map(|t| t.0).or_else(|| event.event_time.as_ref().map(|t| t.0));
        Some(reason)
    }

    /// `noun "name" cannot create pods: <the controller's message>`, failed.
    fn creation_failed(&self, noun: &str, reason: Reason, progress: Progress) -> Verdict {
        let message = format!("{noun} {:?} cannot create pods: {}", self.object.name, reason.message);
        Verdict::new(State::Failed, message).with_reasons(vec![reason]).with_progress(progress)
    }
}

/// The reason controllers give, in events and the ReplicaFailure condition, for a pod they could
/// not create.
const FAILED_CREATE: &str = "FailedCreate";

/// Pods among `children`, not being deleted.
fn live_pods<'a>(children: impl Iterator<Item = (&'a ObjectRef, &'a Stored)>) -> impl Iterator<Item = (&'a ObjectRef, &'a Pod)> {
    children.filter_map(|(key, stored)| match &stored.typed {
        Typed::Pod(pod) if !stored.deleting() => Some((key, pod.as_ref())),
        _ => None,
    })
}

/// `deployment "web" failed: pod/web-1 (app): ImagePullBackOff: Back-off pulling image "x" (and 2 more)`.
fn failure_message(noun: &str, name: &str, first: &Reason, count: usize) -> String {
    let container = first.container.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    let more = if count > 1 { format!(" (and {} more)", count - 1) } else { String::new() };
    format!("{noun} {name:?} failed: {}{container}: {}: {}{more}", first.object, first.code, first.message)
}

/// `60s`, `5m`, `1h 30m` for a window in a message.
pub(crate) fn humanize(window: Duration) -> String {
    let seconds = window.as_secs();
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// A reason from an object's condition: the condition's reason as code (else `default_code`),
/// its message, and since when it holds.
fn condition_reason(object: &ObjectRef, default_code: &str, reason: Option<&str>, message: Option<&str>, since: Option<&Time>) -> Reason {
    let code = reason.unwrap_or(default_code);
    let mut found = Reason::new(code, object.clone(), message.unwrap_or(default_code).to_string());
    found.since = since.map(|t| t.0);
    found
}

/// A replica count from the API (`i32`, absent when zero) as used in figures.
fn count(value: Option<i32>) -> i64 {
    i64::from(value.unwrap_or(0))
}

/// The revision hash a pod was made from, if labelled.
fn revision_hash(pod: &Pod) -> Option<&str> {
    pod.metadata.labels.as_ref()?.get(REVISION_HASH_LABEL).map(String::as_str)
}
