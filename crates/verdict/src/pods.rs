//! Pod-level trouble, found by small pure detectors whose findings flow up to the workload.
//!
//! Each detector looks at one pod for one kind of trouble and says whether it already counts
//! against the rollout or is still within the [`Policy`]'s tolerance (a slow image pull, one
//! restart): findings within tolerance are shown as the reasons a rollout is still progressing.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::{Container, ContainerStatus, Event, Pod, PodCondition};
use jiff::{SignedDuration, Timestamp};

use crate::capacity::{self, AUTOSCALER_EVENTS, Autoscaler, Resources};
use crate::clock::Clock;
use crate::{ObjectRef, Policy, Reason, ReasonCode};

/// One piece of trouble found on a pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub reason: Reason,
    /// Whether it counts against the rollout now (past the policy's tolerance).
    pub counts: bool,
    pub trouble: Trouble,
}

/// What kind of trouble a finding is: workloads weigh them differently (a Job's backoffLimit
/// governs exits, not image pulls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trouble {
    /// The pod has no node.
    Scheduling,
    /// A container cannot start (image, configuration).
    Start,
    /// A container exited non-zero, restarts, or crash-loops.
    Exit,
    /// A running container does not become ready.
    Readiness,
    /// The whole pod failed, or is about to be terminated.
    PodFailed,
    /// The pod's in-place resize cannot be applied.
    Resize,
}

/// What a detector reads: the pod, its name as a reference, the Events about it, and what the
/// cluster has room for.
pub struct PodFacts<'a> {
    pub pod: &'a Pod,
    pub object: ObjectRef,
    pub events: Vec<&'a Event>,
    /// Each node's allocatable, by node name (empty when the nodes are not known).
    pub nodes: &'a BTreeMap<String, Resources>,
    pub autoscaler: Autoscaler,
}

type Detector = fn(&PodFacts, &Policy, &Clock, &mut Vec<Finding>);

/// Every detector, in the order their findings are reported.
const DETECTORS: &[Detector] =
    &[unschedulable, scheduling_gated, waiting_trouble, exits_and_restarts, restarting, readiness_failing, resize_trouble, pod_failed, disruption_target];

/// kubelet's waiting reasons that do not resolve by waiting: the image reference, the pull
/// policy or the signature policy has to change. They count at once.
const HOPELESS_WAITING: &[&str] = &["InvalidImageName", "ErrImageNeverPull", "SignatureValidationFailed"];
/// kubelet's waiting reasons that it retries on its next sync, which may resolve (an image
/// pushed, a registry back, a Secret created, a sandbox network ready): they count after the
/// waiting grace.
const RETRIED_WAITING: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "ImageInspectError",
    "RegistryUnavailable",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CreatePodSandboxError",
    "ConfigPodSandboxError",
    "RunContainerError",
    "PreCreateHookError",
    "PreStartHookError",
    "PostStartHookError",
    "ResizePodInPlaceError",
];
/// How long an unschedulable pod waits where no cluster autoscaler runs, so no node will be
/// added: long enough for pods being deleted to free their room, as kstatus allows.
const UNSCHEDULABLE_GRACE_WITHOUT_AUTOSCALER: Duration = Duration::from_secs(15);
/// kubelet backs off after every crash, the first one included: it counts once the container
/// restarted more often than the policy allows.
const CRASH_LOOP: &str = "CrashLoopBackOff";

/// All trouble found on one pod as of the `clock`'s time.
pub(crate) fn findings(facts: &PodFacts, policy: &Policy, clock: &Clock) -> Vec<Finding> {
    let mut found = Vec::new();
    for detect in DETECTORS {
        detect(facts, policy, clock, &mut found);
    }
    found
}

/// Since when the pod has been Ready, if it is.
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    condition(pod, "Ready").filter(|c| c.status == "True").map(|c| c.last_transition_time.as_ref().map_or(Timestamp::MIN, |t| t.0))
}

/// Whether the pod is Ready and has been for at least `window` as of the `clock`'s time, with no
/// container restart inside the window (restarts before it are the policy's `allowed_restarts`
/// business) and none under way.
pub(crate) fn stable_for(facts: &PodFacts, window: Duration, clock: &Clock) -> bool {
    if window.is_zero() {
        return ready_since(facts.pod).is_some();
    }
    settles_at(facts, window).is_some_and(|at| clock.reached(at))
}

/// When the pod will have been Ready for `window` with no container restart inside it, if it
/// stays so; `None` while it is not Ready, or a container of it is being restarted.
pub(crate) fn settles_at(facts: &PodFacts, window: Duration) -> Option<Timestamp> {
    if being_restarted(facts) {
        return None;
    }
    let pod = facts.pod;
    let last_restart =
        container_statuses(pod).filter_map(|status| status.last_state.as_ref()?.terminated.as_ref()?.finished_at.as_ref()).map(|finished| finished.0).max();
    let since = ready_since(pod)?.max(last_restart.unwrap_or(Timestamp::MIN));
    Some(since.saturating_add(window).unwrap_or(Timestamp::MAX))
}

/// Whether the last instance of an app container ended (crashed, was OOM-killed or killed by its
/// liveness probe) after its pod had become Ready and within the policy's settle window: such a
/// pod is not up, so the restart counts at once, whereas restarts before Ready are left to
/// `allowed_restarts`, as with a zero window.
///
/// Once the pod is Ready again the API no longer says when it first was, so this is told from
/// what remains: either the pod's Ready condition turned False after that instance started (and
/// not after a newer one started), or the container has neither a readiness nor a startup probe
/// (kubelet reports it Ready as soon as it runs), ran for a second or more, and the pod is Ready
/// again. The window is counted from the earliest the instance could be Ready: its start plus its
/// readiness probe's initial delay. A pod Ready for the whole window since has proven itself: a
/// steady workload whose pod once died early on is not failed for it days later.
fn died_while_settling(facts: &PodFacts, status: &ContainerStatus, policy: &Policy, clock: &Clock) -> bool {
    if stable_for(facts, policy.stable_for, clock) {
        return false;
    }
    let pod = facts.pod;
    let Some(container) = pod.spec.as_ref().and_then(|spec| spec.containers.iter().find(|c| c.name == status.name)) else {
        return false;
    };
    let state = status.state.as_ref();
    let died = state.and_then(|s| s.terminated.as_ref()).filter(|t| t.exit_code != 0).or_else(|| status.last_state.as_ref()?.terminated.as_ref());
    let Some((started, finished)) = died.and_then(|t| Some((t.started_at.as_ref()?.0, t.finished_at.as_ref()?.0))) else {
        return false;
    };
    let readiness = container.readiness_probe.as_ref();
    let initial_delay = readiness.and_then(|p| p.initial_delay_seconds).and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
    let earliest_ready = started.saturating_add(Duration::from_secs(initial_delay)).unwrap_or(Timestamp::MAX);
    if policy.stable_for.is_zero() || lasted(earliest_ready, finished, policy.stable_for) {
        return false;
    }
    let Some(ready) = condition(pod, "Ready") else { return false };
    let newer_instance_started = state.and_then(|s| s.running.as_ref()?.started_at.as_ref()).map(|t| t.0);
    let readiness_lost = ready.status == "False"
        && ready.last_transition_time.as_ref().is_some_and(|t| t.0 > started && newer_instance_started.is_none_or(|newer| t.0 <= newer));
    let ready_without_probe = ready.status == "True" && readiness.is_none() && container.startup_probe.is_none() && finished > started;
    readiness_lost || ready_without_probe
}

/// `; its pod had been ready for less than the 10s settle window`, for a reason's message.
fn settle_note(policy: &Policy) -> String {
    format!("; its pod had been ready for less than the {}s settle window", policy.stable_for.as_secs())
}

/// Whether `since` lies more than `limit` before `now` (two fixed instants; rules that read the
/// time ask the [`Clock`]).
fn lasted(since: Timestamp, now: Timestamp, limit: Duration) -> bool {
    now.duration_since(since) >= SignedDuration::try_from(limit).unwrap_or(SignedDuration::MAX)
}

/// The scheduler's word that no node takes `pod` now (PodScheduled=False, reason Unschedulable).
pub fn scheduler_found_no_node(pod: &Pod) -> Option<&PodCondition> {
    condition(pod, "PodScheduled").filter(|scheduled| scheduled.status == "False" && scheduled.reason() == Some("Unschedulable"))
}

fn condition<'a>(pod: &'a Pod, type_: &str) -> Option<&'a PodCondition> {
    pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// Init containers first, then the others, as kubelet runs them.
fn container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let init = status.and_then(|s| s.init_container_statuses.as_deref()).unwrap_or_default();
    let main = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    init.iter().chain(main)
}

fn container_spec<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers.iter().chain(spec.init_containers.iter().flatten()).find(|c| &*c.name == name)
}

/// Whether kubelet restarts `container` after it exits: a sidecar (an init container with
/// `restartPolicy: Always`) always, any other container as the pod's restartPolicy says.
fn restarted_after_exit(pod: &Pod, container: &str) -> bool {
    let spec = pod.spec.as_ref();
    let sidecar =
        spec.and_then(|s| s.init_containers.as_ref()).into_iter().flatten().any(|c| &*c.name == container && c.restart_policy.as_deref() == Some("Always"));
    sidecar || spec.and_then(|s| s.restart_policy.as_deref()) != Some("Never")
}

/// When the pod started, the reference point for tolerating retried waiting reasons.
fn pod_started(pod: &Pod) -> Option<Timestamp> {
    let started = pod.status.as_ref().and_then(|s| s.start_time.as_ref());
    started.or(pod.metadata.creation_timestamp.as_ref()).map(|t| t.0)
}

fn container_reason(facts: &PodFacts, status: &ContainerStatus, code: &str, message: String) -> Reason {
    Reason { container: Some(status.name.to_string()), ..Reason::new(code, facts.object.clone(), message) }
}

/// Not schedulable (PodScheduled=False, reason Unschedulable), judged by the evidence at hand.
/// The scheduler's message says why no node takes the pod now (room, taints, selectors): it is
/// passed on rather than the scheduler re-implemented. When it counts:
/// - requests that no node's allocatable can hold: at once, as no new node of the same kinds
///   could either; unless the cluster autoscaler says it triggered a scale-up (a node group of
///   larger nodes);
/// - the cluster autoscaler's latest word on the pod: `NotTriggerScaleUp` at once, with its
///   message; `TriggeredScaleUp` after the unschedulable grace;
/// - no cluster autoscaler: after a short grace, for pods being deleted to make room;
/// - an autoscaler that has not spoken yet, or none known of: after the unschedulable grace.
fn unschedulable(facts: &PodFacts, policy: &Policy, clock: &Clock, found: &mut Vec<Finding>) {
    let Some(scheduled) = scheduler_found_no_node(facts.pod) else { return };
    // Without a transition time, the pod's creation is the latest moment it became unschedulable.
    let since = scheduled.last_transition_time.as_ref().or(facts.pod.metadata.creation_timestamp.as_ref()).map(|t| t.0);
    let scheduler = scheduled.message().unwrap_or("the scheduler found no node for the pod").to_string();
    let waited = |grace: Duration| since.is_none_or(|since| clock.lasted(since, grace));
    let (will_not_scale, scaled_up) = AUTOSCALER_EVENTS;
    let autoscaler_word = autoscaler_word(facts);
    let scaling_up = autoscaler_word.is_some_and(|(reason, _)| reason == scaled_up);
    let misfit = if scaling_up {
        None
    } else {
        let requests = facts.pod.spec.as_ref().and_then(|spec| capacity::pod_requests(spec).ok());
        requests.and_then(|requests| capacity::fits_no_node(&requests, facts.nodes.iter().map(|(name, room)| (name.as_str(), room))))
    };
    let (code, message, counts) = match (misfit, autoscaler_word) {
        (Some(misfit), _) => ("Unschedulable", format!("{misfit}; the scheduler: {scheduler}"), true),
        (None, Some((reason, word))) if reason == will_not_scale => (will_not_scale, format!("the cluster autoscaler will not add a node: {word}"), true),
        (None, Some((_, word))) => ("Unschedulable", format!("{scheduler}; the cluster autoscaler: {word}"), waited(policy.unschedulable_grace)),
        (None, None) if facts.autoscaler == Autoscaler::Absent => {
            let grace = policy.unschedulable_grace.min(UNSCHEDULABLE_GRACE_WITHOUT_AUTOSCALER);
            ("Unschedulable", format!("{scheduler} (no cluster autoscaler runs to add a node)"), waited(grace))
        }
        (None, None) => ("Unschedulable", scheduler, waited(policy.unschedulable_grace)),
    };
    found.push(Finding { trouble: Trouble::Scheduling, counts, reason: Reason { since, ..Reason::new(code, facts.object.clone(), message) } });
}

/// The cluster autoscaler's latest event about this pod (not an earlier pod of the same name):
/// its reason and message.
fn autoscaler_word<'a>(facts: &PodFacts<'a>) -> Option<(&'a str, &'a str)> {
    let (will_not_scale, scaled_up) = AUTOSCALER_EVENTS;
    let uid = facts.pod.metadata.uid.as_ref();
    facts
        .events
        .iter()
        .filter(|e| e.reason.as_deref().is_some_and(|reason| reason == will_not_scale || reason == scaled_up))
        .filter(|e| e.involved_object.uid.as_deref().zip(uid).is_none_or(|(about, pod)| pod == about))
        .max_by_key(|e| e.last_seen())
        .and_then(|e| Some((e.reason.as_deref()?, e.message.as_deref().unwrap_or("").trim_end())))
}

/// A container waiting with a failure reason (image pull, configuration, crash loop).
fn waiting_trouble(facts: &PodFacts, policy: &Policy, clock: &Clock, found: &mut Vec<Finding>) {
    for status in container_statuses(facts.pod) {
        let Some(waiting) = status.state.as_ref().and_then(|s| s.waiting.as_ref()) else { continue };
        let Some(code) = waiting.reason.as_deref() else { continue };
        let died_settling = code == CRASH_LOOP && died_while_settling(facts, status, policy, clock);
        let counts = if code == CRASH_LOOP {
            restarted_too_often(status, policy) || died_settling
        } else if HOPELESS_WAITING.contains(&code) {
            true
        } else if RETRIED_WAITING.contains(&code) {
            pod_started(facts.pod).is_none_or(|started| clock.lasted(started, policy.waiting_grace))
        } else {
            continue;
        };
        let last_exit = status.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        let mut message = waiting.message.clone().unwrap_or_else(|| match last_exit {
            Some(exit) => format!("container {} keeps exiting (last exit code {})", status.name, exit.exit_code),
            None => format!("container {} is waiting: {code}", status.name),
        });
        // A crash loop of OOM kills needs more memory, not a code fix: name it for what it is.
        let oom_killed = last_exit.is_some_and(|exit| exit.reason.as_deref() == Some("OOMKilled"));
        let code = if code == CRASH_LOOP && oom_killed {
            message = format!("container {} keeps being killed for running out of memory: {message}", status.name);
            ReasonCode::OomKilled.as_str()
        } else {
            code
        };
        // kubelet's back-off message only names the image; its last pull error says why.
        if code == "ImagePullBackOff"
            && let Some(pull_error) = latest_event(facts, &status.name, "Failed", |m| m.starts_with("Failed to pull image"))
        {
            message = format!("{message}: {pull_error}");
        }
        if died_settling {
            message.push_str(&settle_note(policy));
        }
        let mut reason = container_reason(facts, status, code, message);
        reason.exit_code = last_exit.map(|exit| exit.exit_code);
        let trouble = if waiting.reason.as_deref() == Some(CRASH_LOOP) { Trouble::Exit } else { Trouble::Start };
        found.push(Finding { reason, counts, trouble });
    }
}

/// Containers that exited non-zero (now or before their last restart), or restarted too often.
///
/// A non-zero exit counts at once when the pod will not restart the container (restartPolicy
/// Never), otherwise once the container restarted more than the policy allows, or died inside the
/// settle window after its pod became Ready ([`died_while_settling`]). A restart after
/// failed liveness probes is reported as such, with the probe's message. A container waiting in
/// CrashLoopBackOff is reported by [`waiting_trouble`] instead.
fn exits_and_restarts(facts: &PodFacts, policy: &Policy, clock: &Clock, found: &mut Vec<Finding>) {
    for status in container_statuses(facts.pod) {
        let never_restarted = !restarted_after_exit(facts.pod, &status.name);
        let state = status.state.as_ref();
        if state.and_then(|s| s.waiting.as_ref()).is_some_and(|w| w.reason.as_deref() == Some(CRASH_LOOP)) {
            continue;
        }
        let died_settling = died_while_settling(facts, status, policy, clock);
        let too_many_restarts = restarted_too_often(status, policy) || died_settling;
        let current_exit = state.and_then(|s| s.terminated.as_ref()).filter(|t| t.exit_code != 0);
        let last_exit = status.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        // Killed by its liveness probe: restarted since, or (a death in the settle window is seen
        // at once) not yet.
        let liveness = (status.restart_count > 0 || current_exit.is_some()).then(|| probe_failure(facts, &status.name, "Liveness")).flatten();
        let (exit, counts) = match (current_exit, last_exit) {
            (Some(exit), _) => (Some(exit), never_restarted || too_many_restarts),
            (None, Some(exit)) if exit.exit_code != 0 => (Some(exit), too_many_restarts),
            _ if too_many_restarts || liveness.is_some() => (None, too_many_restarts),
            _ => continue,
        };
        let restarts = restarts_phrase(status.restart_count, never_restarted);
        let (code, message) = match (exit, liveness) {
            (_, Some(probe)) => (ReasonCode::LivenessProbeFailed, format!("container {} {restarts}: {probe}", status.name)),
            (Some(exit), None) => {
                let code = if exit.reason.as_deref() == Some("OOMKilled") { ReasonCode::OomKilled } else { ReasonCode::NonZeroExit };
                let detail = exit.message.as_deref().or(exit.reason.as_deref()).map(|d| format!(": {d}")).unwrap_or_default();
                let restarts = if never_restarted && status.restart_count == 0 { String::new() } else { format!(" ({restarts})") };
                (code, format!("container {} exited with code {}{detail}{restarts}", status.name, exit.exit_code))
            }
            (None, None) => (ReasonCode::Restarts, format!("container {} {restarts}", status.name)),
        };
        let message = if died_settling { message + &settle_note(policy) } else { message };
        let mut reason = container_reason(facts, status, code.as_str(), message);
        reason.exit_code = exit.map(|exit| exit.exit_code);
        reason.since = exit.and_then(|exit| exit.finished_at.as_ref()).map(|t| t.0);
        found.push(Finding { reason, counts, trouble: Trouble::Exit });
    }
}

/// The reason of kubelet's Event when it stops a container, and the field selector that reads
/// only those Events (they are Normal, which rollwatch does not read otherwise).
const KILLING: &str = "Killing";
pub const KILLING_EVENT_SELECTOR: &str = "reason=Killing";
/// kubelet's `Killing` message when it stops a container to start it again (a failed liveness or
/// startup probe, a changed definition), rather than for good.
const RESTART_ANNOUNCED: &str = ", will be restarted";

/// Whether a rule reads `event`: of kubelet's Killing Events, only those that announce a restart.
pub(crate) fn event_read_by_rules(event: &Event) -> bool {
    event.reason.as_deref() != Some(KILLING) || event.message.as_deref().is_some_and(|m| m.ends_with(RESTART_ANNOUNCED))
}

/// kubelet's latest announcement that it kills `status`'s running container to restart it, if it
/// announced more such kills to this pod than the container's restart count shows: the running
/// instance is going down, whatever its ready flag says. The pod's status lags such a kill
/// (kubelet writes it once the runtime reports the exit, after the grace period) and may even
/// turn Ready meanwhile, the readiness probe answered by the pod's address.
///
/// Counted, not timed: while tracking, the pod's times are moved onto rollwatch's clock and the
/// Events' are not, so comparing them would be off by the clocks' skew. Every announced kill is
/// followed by one restart, and a container also restarts without one (a crash), so more kills
/// than restarts means one is under way; a lost or late Event only makes this say so less often.
fn restart_announced<'a>(facts: &PodFacts<'a>, status: &ContainerStatus) -> Option<&'a Event> {
    status.state.as_ref()?.running.as_ref()?;
    let uid = facts.pod.metadata.uid.as_ref();
    // A pod of the same name before this one (a StatefulSet's) had its own restarts.
    let announcements = || {
        container_events(facts, &status.name, KILLING, |message| message.ends_with(RESTART_ANNOUNCED))
            .filter(move |e| e.involved_object.uid.as_deref().zip(uid).is_none_or(|(about, pod)| pod == about))
    };
    let announced: i64 = announcements().map(|e| i64::from(e.count.or_else(|| e.series.as_ref().and_then(|s| s.count)).unwrap_or(1).max(1))).sum();
    (announced > i64::from(status.restart_count)).then(|| announcements().max_by_key(|e| e.last_seen())).flatten()
}

/// Whether kubelet is restarting a container of the pod ([`restart_announced`]).
fn being_restarted(facts: &PodFacts) -> bool {
    container_statuses(facts.pod).any(|status| restart_announced(facts, status).is_some())
}

/// A container kubelet is restarting while the pod's status still shows it running: the reason
/// its pod is not taken as up. Within tolerance; the restart counts once the status shows it.
fn restarting(facts: &PodFacts, _policy: &Policy, _clock: &Clock, found: &mut Vec<Finding>) {
    for status in container_statuses(facts.pod) {
        let Some(event) = restart_announced(facts, status) else { continue };
        let announced = event.message.as_deref().unwrap_or_default();
        let liveness = announced.contains("liveness probe").then(|| probe_failure(facts, &status.name, "Liveness")).flatten();
        let (code, message) = match liveness {
            Some(probe) => (ReasonCode::LivenessProbeFailed, format!("container {} is being restarted: {probe}", status.name)),
            None => (ReasonCode::Restarts, announced.to_owned()),
        };
        let mut reason = container_reason(facts, status, code.as_str(), message);
        reason.since = event.last_seen();
        found.push(Finding { reason, counts: false, trouble: Trouble::Exit });
    }
}

/// How often a container restarted, in words: a container killed moments ago (by its liveness
/// probe, or inside the settle window) has not restarted yet, which "restarted 0 times" hid.
fn restarts_phrase(restart_count: i32, never_restarted: bool) -> String {
    match restart_count {
        0 if never_restarted => "not restarted (the pod's restartPolicy)".to_string(),
        0 => "not restarted yet".to_string(),
        1 => "restarted once".to_string(),
        count => format!("restarted {count} times"),
    }
}

fn restarted_too_often(status: &ContainerStatus, policy: &Policy) -> bool {
    i64::from(status.restart_count) > i64::from(policy.allowed_restarts)
}

/// The latest `Unhealthy` event's message for `container`'s probe of `kind` (`Readiness`,
/// `Liveness`).
fn probe_failure<'a>(facts: &PodFacts<'a>, container: &str, kind: &str) -> Option<&'a str> {
    let prefix = format!("{kind} probe failed");
    latest_event(facts, container, "Unhealthy", |message| message.starts_with(&prefix))
}

/// The latest message of an event with `reason` about `container` that `wanted` accepts.
fn latest_event<'a>(facts: &PodFacts<'a>, container: &str, reason: &str, wanted: impl Fn(&str) -> bool) -> Option<&'a str> {
    container_events(facts, container, reason, wanted).max_by_key(|e| e.last_seen())?.message.as_deref()
}

/// The events with `reason` about `container` whose message `wanted` accepts; events without a
/// field path are taken to be about any container.
fn container_events<'a, 'f>(
    facts: &'f PodFacts<'a>,
    container: &str,
    reason: &'f str,
    wanted: impl Fn(&str) -> bool + 'f,
) -> impl Iterator<Item = &'a Event> + 'f {
    let field_paths = [format!("spec.containers{{{container}}}"), format!("spec.initContainers{{{container}}}")];
    facts
        .events
        .iter()
        .copied()
        .filter(move |e| e.reason.as_deref() == Some(reason))
        .filter(move |e| e.involved_object.field_path.as_ref().is_none_or(|path| field_paths.contains(path)))
        .filter(move |e| e.message.as_deref().is_some_and(&wanted))
}

/// A running container whose readiness probe has failed for longer than the probe's own window
/// (`initialDelaySeconds + failureThreshold × periodSeconds`) plus the policy's grace.
fn readiness_failing(facts: &PodFacts, policy: &Policy, clock: &Clock, found: &mut Vec<Finding>) {
    for status in container_statuses(facts.pod).filter(|s| !s.ready) {
        let Some(running_since) = status.state.as_ref().and_then(|s| s.running.as_ref()).and_then(|r| r.started_at.as_ref()) else {
            continue;
        };
        let Some(probe) = container_spec(facts.pod, &status.name).and_then(|c| c.readiness_probe.as_ref()) else {
            continue;
        };
        let seconds = |value: Option<i32>, default: i32| u64::try_from(value.unwrap_or(default)).unwrap_or(0);
        let window = Duration::from_secs(seconds(probe.initial_delay_seconds, 0) + seconds(probe.failure_threshold, 3) * seconds(probe.period_seconds, 10))
            + policy.readiness_grace;
        if !clock.lasted(running_since.0, window) {
            continue;
        }
        let message = probe_failure(facts, &status.name, "Readiness")
            .map_or_else(|| format!("container {} has not become ready since it started", status.name), str::to_string);
        let mut reason = container_reason(facts, status, ReasonCode::ReadinessProbeFailing.as_str(), message);
        reason.since = Some(running_since.0);
        found.push(Finding { reason, counts: true, trouble: Trouble::Readiness });
    }
}

/// The pod as a whole failed (evicted, deadline exceeded, or all containers exited for good).
/// It counts only for a pod without a controller: a ReplicaSet, StatefulSet or DaemonSet replaces
/// a failed pod, and a Job weighs failed pods against its backoffLimit.
fn pod_failed(facts: &PodFacts, _policy: &Policy, _clock: &Clock, found: &mut Vec<Finding>) {
    let Some(status) = facts.pod.status.as_ref() else { return };
    if status.phase.as_deref() != Some("Failed") {
        return;
    }
    let code = status.reason.as_deref().map_or(ReasonCode::PodFailed, |reason| ReasonCode::parse(reason));
    let message = status.message.as_deref().map_or_else(|| "the pod failed".into(), |message| message.to_string());
    let reason = Reason::new(code, facts.object.clone(), message);
    found.push(Finding { reason, counts: !controlled(facts.pod), trouble: Trouble::PodFailed });
}

/// Whether the pod's controller replaces it when it fails (a Job weighs it against its limits).
fn controlled(pod: &Pod) -> bool {
    pod.metadata.owner_references.iter().flatten().any(|owner| owner.controller == Some(true))
}

/// Held back by scheduling gates (PodScheduled=False, reason SchedulingGated): whoever added the
/// gates has to remove them, so it never counts by itself; the gates are named.
fn scheduling_gated(facts: &PodFacts, _policy: &Policy, _clock: &Clock, found: &mut Vec<Finding>) {
    let Some(gated) = condition(facts.pod, "PodScheduled").filter(|c| c.status == "False" && c.reason() == Some("SchedulingGated")) else {
        return;
    };
    let gates: Vec<&str> = facts.pod.spec.as_ref().and_then(|s| s.scheduling_gates.as_ref()).into_iter().flatten().map(|g| g.name.as_str()).collect();
    let message = match gates.as_slice() {
        [] => gated.message().unwrap_or("waiting for its scheduling gates to be removed").to_string(),
        gates => format!("waiting for scheduling gates to be removed: {}", gates.join(", ")),
    };
    let since = gated.last_transition_time.as_ref().map(|t| t.0);
    let reason = Reason { since, ..Reason::new(ReasonCode::SchedulingGated, facts.object.clone(), message) };
    found.push(Finding { reason, counts: false, trouble: Trouble::Scheduling });
}

/// Whether an in-place resize of the pod is not yet in place: pending (Deferred, Infeasible) or
/// in progress, by the 1.33+ conditions or the older `status.resize`.
pub fn resize_in_flight(pod: &Pod) -> bool {
    let conditions = ["PodResizePending", "PodResizeInProgress"];
    conditions.iter().any(|type_| condition(pod, type_).is_some_and(|c| c.status == "True"))
        || pod.status.as_ref().and_then(|s| s.resize.as_deref()).is_some_and(|resize| !resize.is_empty())
}

/// An in-place resize kubelet cannot apply: Infeasible (more than the node has) counts at once,
/// Deferred (the node may get room) never by itself, an Error while applying it (kubelet
/// retries) after the waiting grace. Read from the PodResizePending / PodResizeInProgress
/// conditions (1.33+), else from `status.resize` (1.27 to 1.32).
fn resize_trouble(facts: &PodFacts, policy: &Policy, clock: &Clock, found: &mut Vec<Finding>) {
    let pending = condition(facts.pod, "PodResizePending").filter(|c| c.status == "True");
    let legacy = facts.pod.status.as_ref().and_then(|s| s.resize.as_deref()).map(|resize| &**resize);
    let pending_reason = pending.and_then(|c| c.reason()).or(legacy);
    let since = |c: Option<&PodCondition>| c.and_then(|c| c.last_transition_time.as_ref()).map(|t| t.0);
    let message = |c: Option<&PodCondition>, default: &str| c.and_then(|c| c.message()).unwrap_or(default).to_string();
    let (code, counts, message, since) = match pending_reason {
        Some("Infeasible") => (ReasonCode::PodResizeInfeasible, true, message(pending, "the resize does not fit the node"), since(pending)),
        Some("Deferred") => (ReasonCode::PodResizeDeferred, false, message(pending, "the resize waits for room on the node"), since(pending)),
        _ => {
            let Some(error) = condition(facts.pod, "PodResizeInProgress").filter(|c| c.status == "True" && c.reason() == Some("Error")) else {
                return;
            };
            let since = since(Some(error));
            let counts = since.is_none_or(|since| clock.lasted(since, policy.waiting_grace));
            (ReasonCode::PodResizeError, counts, message(Some(error), "kubelet failed to apply the resize"), since)
        }
    };
    let reason = Reason { since, ..Reason::new(code, facts.object.clone(), message) };
    found.push(Finding { reason, counts, trouble: Trouble::Resize });
}

/// About to be terminated (DisruptionTarget=True: preempted, evicted, tainted away, garbage
/// collected). Like a failed pod it counts only without a controller to replace it.
fn disruption_target(facts: &PodFacts, _policy: &Policy, _clock: &Clock, found: &mut Vec<Finding>) {
    let Some(target) = condition(facts.pod, "DisruptionTarget").filter(|c| c.status == "True") else { return };
    let cause = target.reason().map(|r| format!(" ({r})")).unwrap_or_default();
    let message = target.message().map_or_else(|| "the pod is about to be terminated".into(), str::to_string);
    let reason = Reason {
        since: target.last_transition_time.as_ref().map(|t| t.0),
        ..Reason::new(ReasonCode::DisruptionTarget, facts.object.clone(), format!("{message}{cause}"))
    };
    found.push(Finding { reason, counts: !controlled(facts.pod), trouble: Trouble::PodFailed });
}
