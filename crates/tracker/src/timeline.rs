//! What a timeline picture of the run needs beyond verdicts: each pod's state changes (with its
//! workload and revision), its restarts, the warning events about the tracked workloads' family,
//! and the waves the duration model predicts for each rollout. Recorded by the engine only when
//! [`crate::TrackOptions::timeline`] asks for it, as [`Update`]s.
//!
//! A relist delivers every object again: a pod is reported only when its state, restarts or
//! revision differ from the last report, a warning event only once per `count`.

use std::time::Duration;

use foldhash::{HashMap, HashSet};
use jiff::Timestamp;
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::estimate::Estimate;
use rollwatch_verdict::pod_state::{self, PodLook, PodState};
use serde_json::Value;

use crate::Update;

/// A pod's new state, or its restart count grown.
#[derive(Debug, Clone)]
pub struct PodChange {
    pub pod: ObjectRef,
    /// The tracked object it belongs to (the one highest up its owners, the pod itself when it
    /// is tracked alone).
    pub workload: ObjectRef,
    pub revision: Option<String>,
    pub state: PodState,
    pub restarts: u32,
    /// Why it is in that state, in the kubelet's or scheduler's words.
    pub detail: Option<String>,
    /// After a restart: how the restarted container's last instance ended.
    pub last_exit: Option<String>,
    pub at: Timestamp,
    /// Since tracking started.
    pub elapsed: Duration,
}

/// A warning event about a tracked workload or one of its ReplicaSets or pods.
#[derive(Debug, Clone)]
pub struct WarningEvent {
    pub workload: ObjectRef,
    /// What the event is about (its `involvedObject`).
    pub object: ObjectRef,
    pub reason: String,
    pub message: String,
    /// How often it happened so far (the event's `count`).
    pub count: u64,
    pub at: Timestamp,
    pub elapsed: Duration,
}

/// The waves the duration model (`rollwatch plan`'s) expects for a rollout, from when tracking
/// first saw its generation.
#[derive(Debug, Clone)]
pub struct PlannedWaves {
    pub workload: ObjectRef,
    pub estimate: Estimate,
    pub at: Timestamp,
    pub elapsed: Duration,
}

/// What an object's version tells a timeline, read before it goes into the snapshot (which keeps
/// only what verdicts read).
pub(crate) enum Seen {
    Pod { look: PodLook, last_exit: Option<String> },
    Warning { uid: String, reason: String, message: String, count: u64 },
}

impl Seen {
    /// The timeline's reading of a Pod or a Warning Event; `None` for other objects.
    pub(crate) fn read(key: &ObjectRef, object: &Value) -> Option<Seen> {
        if !key.group.is_empty() {
            return None;
        }
        let text = |field: &str| object.get(field).and_then(Value::as_str).unwrap_or_default().to_string();
        match key.kind.as_str() {
            "Pod" => Some(Seen::Pod { look: pod_state::look(object), last_exit: pod_state::last_exit(object) }),
            "Event" if object.get("type").and_then(Value::as_str) == Some("Warning") => {
                let count = object.pointer("/series/count").or_else(|| object.get("count")).and_then(Value::as_u64).unwrap_or(1);
                let uid = object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or(&key.name).to_string();
                Some(Seen::Warning { uid, reason: text("reason"), message: text("message"), count })
            }
            _ => None,
        }
    }
}

/// A pod version or event seen before its tracked owner was known (watches list in any order:
/// a pod may come before its Deployment).
struct Pending {
    seen: Seen,
    /// The pod, or what the event is about.
    subject: ObjectRef,
    /// When it was seen among all pending ones: claimed, they are reported in this order, so a
    /// run's lines follow the watches' order (pods listed by name) and not a hash map's.
    order: u64,
    at: Timestamp,
    elapsed: Duration,
}

/// The pods and events already reported, and those waiting for their owner.
#[derive(Default)]
pub(crate) struct Recorder {
    pods: HashMap<ObjectRef, (ObjectRef, PodLook)>,
    warnings: HashSet<(String, u64)>,
    pending: HashMap<ObjectRef, Vec<Pending>>,
    pending_seen: u64,
}

impl Recorder {
    /// Reports what `seen` changed: `workload` is the tracked object highest up the owners of
    /// `subject` (the pod, or what an event is about); without one it waits for [`Recorder::claim`].
    pub(crate) fn take(&mut self, key: &ObjectRef, seen: Seen, workload: Option<ObjectRef>, subject: ObjectRef, elapsed: Duration) -> Option<Update> {
        let at = Timestamp::now();
        match workload {
            Some(workload) => self.report(key, seen, workload, subject, at, elapsed),
            None => {
                self.pending_seen += 1;
                let order = self.pending_seen;
                self.pending.entry(key.clone()).or_default().push(Pending { seen, subject, order, at, elapsed });
                None
            }
        }
    }

    /// Whether pods or events wait for their owner.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Reports, as of when they were seen, the waiting pods and events whose subject is in
    /// `family` (a tracked `workload` and everything it owns).
    pub(crate) fn claim(&mut self, workload: &ObjectRef, family: &HashSet<ObjectRef>) -> Vec<Update> {
        let mut claimed: Vec<(u64, ObjectRef)> =
            self.pending.iter().filter(|(_, seen)| seen.iter().any(|p| family.contains(&p.subject))).map(|(key, seen)| (seen[0].order, key.clone())).collect();
        claimed.sort_unstable();
        let mut updates = Vec::new();
        for (_, key) in claimed {
            for pending in self.pending.remove(&key).unwrap_or_default() {
                updates.extend(self.report(&key, pending.seen, workload.clone(), pending.subject, pending.at, pending.elapsed));
            }
        }
        updates
    }

    fn report(&mut self, key: &ObjectRef, seen: Seen, workload: ObjectRef, subject: ObjectRef, at: Timestamp, elapsed: Duration) -> Option<Update> {
        match seen {
            Seen::Pod { look, last_exit } => {
                if self.pods.get(key).is_some_and(|(_, known)| known.state == look.state && known.restarts == look.restarts && known.revision == look.revision)
                {
                    return None;
                }
                let change = PodChange {
                    pod: key.clone(),
                    workload: workload.clone(),
                    revision: look.revision.clone(),
                    state: look.state,
                    restarts: look.restarts,
                    detail: look.detail.clone(),
                    last_exit: last_exit.filter(|_| look.restarts > 0),
                    at,
                    elapsed,
                };
                self.pods.insert(key.clone(), (workload, look));
                Some(Update::Pod(Box::new(change)))
            }
            Seen::Warning { uid, reason, message, count } => {
                if !self.warnings.insert((uid, count)) {
                    return None;
                }
                Some(Update::Warning(Box::new(WarningEvent { workload, object: subject, reason, message, count, at, elapsed })))
            }
        }
    }

    /// A pod or event is gone: a reported pod is drawn as deleted from now.
    pub(crate) fn deleted(&mut self, key: &ObjectRef, elapsed: Duration) -> Option<Update> {
        self.pending.remove(key);
        let (workload, look) = self.pods.remove(key)?;
        let change = PodChange {
            pod: key.clone(),
            workload,
            revision: look.revision,
            state: PodState::Deleted,
            restarts: look.restarts,
            detail: None,
            last_exit: None,
            at: Timestamp::now(),
            elapsed,
        };
        Some(Update::Pod(Box::new(change)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(phase: &str, restarts: u32) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"pod-template-hash": "abc"}},
               "spec": {"nodeName": "n"},
               "status": {"phase": phase, "containerStatuses": [{"name": "app", "imageID": "x", "restartCount": restarts,
                          "state": {"running": {}}}]}})
    }

    #[test]
    fn a_pod_is_reported_when_its_state_or_restarts_change_and_once_more_when_gone() {
        let key = ObjectRef::new("Pod", Some("shop".into()), "web-1");
        let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
        let mut recorder = Recorder::default();
        let mut take = |value: &Value| recorder.take(&key, Seen::read(&key, value).unwrap(), Some(web.clone()), key.clone(), Duration::ZERO);
        assert!(matches!(take(&pod("Running", 0)), Some(Update::Pod(c)) if c.state == PodState::RunningNotReady && c.workload == web));
        assert!(take(&pod("Running", 0)).is_none(), "the same state again, as a relist brings it");
        assert!(matches!(take(&pod("Running", 1)), Some(Update::Pod(c)) if c.restarts == 1));
        assert!(matches!(recorder.deleted(&key, Duration::ZERO), Some(Update::Pod(c)) if c.state == PodState::Deleted));
        assert!(recorder.deleted(&key, Duration::ZERO).is_none());
    }

    #[test]
    fn a_pod_seen_before_its_owner_is_reported_once_claimed_with_the_time_it_was_seen() {
        let key = ObjectRef::new("Pod", Some("shop".into()), "web-1");
        let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
        let mut recorder = Recorder::default();
        let mut initializing = pod("Pending", 0);
        initializing["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "PodInitializing"}});
        assert!(recorder.take(&key, Seen::read(&key, &initializing).unwrap(), None, key.clone(), Duration::from_secs(1)).is_none());
        assert!(recorder.take(&key, Seen::read(&key, &pod("Running", 0)).unwrap(), None, key.clone(), Duration::from_secs(2)).is_none());
        assert!(recorder.claim(&web, &HashSet::from_iter([web.clone()])).is_empty(), "not in that family");
        let claimed = recorder.claim(&web, &HashSet::from_iter([web.clone(), key.clone()]));
        let seen: Vec<_> = claimed.iter().map(|u| if let Update::Pod(c) = u { (c.state, c.elapsed.as_secs()) } else { panic!("{u:?}") }).collect();
        assert_eq!(seen, [(PodState::Starting, 1), (PodState::RunningNotReady, 2)]);
        assert!(recorder.claim(&web, &HashSet::from_iter([key.clone()])).is_empty(), "claimed once");
    }

    #[test]
    fn pods_claimed_together_are_reported_in_the_order_they_were_seen() {
        let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
        let keys: Vec<_> = (0..32).map(|i| ObjectRef::new("Pod", Some("shop".into()), format!("web-{i:02}"))).collect();
        let mut recorder = Recorder::default();
        for key in &keys {
            assert!(recorder.take(key, Seen::read(key, &pod("Running", 0)).unwrap(), None, key.clone(), Duration::ZERO).is_none());
        }
        let family: HashSet<_> = keys.iter().cloned().chain([web.clone()]).collect();
        let claimed: Vec<_> = recorder.claim(&web, &family).into_iter().map(|u| if let Update::Pod(c) = u { c.pod } else { panic!("{u:?}") }).collect();
        assert_eq!(claimed, keys);
    }

    #[test]
    fn a_warning_event_is_reported_once_per_count_and_normal_events_not_at_all() {
        let key = ObjectRef::new("Event", Some("shop".into()), "web-1.17a");
        let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
        let event = |kind: &str, count: u64| json!({"type": kind, "reason": "BackOff", "message": "Back-off restarting failed container", "count": count, "metadata": {"uid": "e1"}});
        assert!(Seen::read(&key, &event("Normal", 1)).is_none());
        let mut recorder = Recorder::default();
        let mut take = |count| recorder.take(&key, Seen::read(&key, &event("Warning", count)).unwrap(), Some(web.clone()), key.clone(), Duration::ZERO);
        assert!(matches!(take(1), Some(Update::Warning(w)) if w.reason == "BackOff" && w.count == 1));
        assert!(take(1).is_none());
        assert!(take(2).is_some());
    }
}
