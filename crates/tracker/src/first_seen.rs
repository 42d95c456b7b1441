//! Server timestamps, retimed onto rollwatch's own clock.
//!
//! The time-based rules (grace periods, the stable window) compare a Pod's timestamps — its
//! start, its conditions' transitions, its containers' starts and ends — with "now". Those
//! timestamps come from the API server's and kubelet's clocks; "now" comes from the runner's.
//! A runner whose clock is a minute fast would see every pull error as a minute old and fail it
//! at once. So while tracking, each such timestamp is replaced, before the snapshot sees it, by a
//! time on the engine's monotonic clock: the newest of the values new in an update is placed no
//! later than the moment rollwatch saw it, and the others keep their distances from it on the
//! server's clock (differences of server times are free of skew, and the rules compare them:
//! whether a container started before its pod turned unready). A value keeps its time once
//! placed. A condition already under way when tracking starts counts from first sight (slower,
//! never wrong), and one first seen after an outage, during which the engine's clock stood
//! still, counts from its end. Offline `check` reads the server's timestamps as they are,
//! against its `--now`.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::registry;
use serde_json::Value;

/// Per Pod: how its server timestamps map onto rollwatch's clock.
#[derive(Default)]
pub(crate) struct FirstSeen {
    pods: HashMap<ObjectRef, PodTimes>,
}

#[derive(Default)]
struct PodTimes {
    /// Local time minus server time, for the values seen so far: the newest new value of the
    /// first update is taken to be as old as its first sight, and the offset only ever shrinks,
    /// so no value is placed after the moment rollwatch saw it.
    offset: Option<SignedDuration>,
    /// Each server timestamp in the Pod (by value, so an instance's start keeps its time when it
    /// moves from `state` to `lastState`) and its local time.
    seen: HashMap<String, Timestamp>,
}

impl FirstSeen {
    /// Replaces the timestamps the time-based rules read in `object` (Pods only: the other
    /// kinds' rules read no times) by local times. A value seen before keeps its local time; the
    /// values new in this update keep their distances from each other on the server's clock (a
    /// container started before its pod turned unready stays before it: the rules compare them)
    /// and the newest of them is placed no later than `now`.
    pub(crate) fn retime(&mut self, key: &ObjectRef, object: &mut Value, now: Timestamp) {
        if !key.is(&registry::POD) {
            return;
        }
        let mut times = self.pods.remove(key).unwrap_or_default();
        let mut present = Vec::new();
        for_each_rule_timestamp(object, |_, value| present.extend(value.as_str().map(str::to_string)));
        let new: Vec<(&String, Option<Timestamp>)> =
            present.iter().filter(|v| !times.seen.contains_key(*v)).map(|v| (v, v.parse::<Timestamp>().ok())).collect();
        if let Some(newest) = new.iter().filter_map(|(_, server)| *server).max() {
            let anchored = now.duration_since(newest);
            times.offset = Some(times.offset.map_or(anchored, |offset| offset.min(anchored)));
        }
        for (value, server) in new {
            let local = match (server, times.offset) {
                (Some(server), Some(offset)) => server.checked_add(offset).unwrap_or(now).min(now),
                _ => now,
            };
            times.seen.insert(value.clone(), local);
        }
        // Only what the Pod still shows is kept: its memory stays the size of one status.
        times.seen.retain(|value, _| present.contains(value));
        for_each_rule_timestamp(object, |_, value| {
            if let Some(local) = value.as_str().and_then(|v| times.seen.get(v)) {
                *value = Value::String(local.to_string());
            }
        });
        if !times.seen.is_empty() {
            self.pods.insert(key.clone(), times);
        }
    }

    /// The object is gone; a Pod of the same name later is a new Pod.
    pub(crate) fn forget(&mut self, key: &ObjectRef) {
        self.pods.remove(key);
    }
}

/// Calls `visit` with a stable name and the value of every timestamp in a Pod that a time-based
/// rule reads (the pod's start and creation, its conditions' transitions, its containers'
/// starts and ends, current and last).
fn for_each_rule_timestamp(pod: &mut Value, mut visit: impl FnMut(String, &mut Value)) {
    let mut visit_string = |field: String, value: Option<&mut Value>| {
        if let Some(value) = value.filter(|v| v.is_string()) {
            visit(field, value);
        }
    };
    visit_string("creationTimestamp".into(), pod.pointer_mut("/metadata/creationTimestamp"));
    let Some(status) = pod.get_mut("status") else { return };
    visit_string("startTime".into(), status.get_mut("startTime"));
    for condition in status.get_mut("conditions").and_then(Value::as_array_mut).into_iter().flatten() {
        let kind = condition.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        visit_string(format!("condition {kind}"), condition.get_mut("lastTransitionTime"));
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        for container in status.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            let name = container.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            for which in ["state", "lastState"] {
                for phase in ["running", "terminated"] {
                    for field in ["startedAt", "finishedAt"] {
                        let value = container.get_mut(which).and_then(|s| s.get_mut(phase)).and_then(|p| p.get_mut(field));
                        visit_string(format!("{list} {name} {which} {phase} {field}"), value);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(started: &str, ready_since: &str) -> Value {
        json!({
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": started},
            "status": {
                "startTime": started,
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready_since}],
                "containerStatuses": [{"name": "app", "state": {"running": {"startedAt": started}}}],
            },
        })
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn new_values_keep_their_distances_the_newest_at_first_sight_and_a_seen_value_its_time() {
        let key = ObjectRef::new("Pod", Some("shop".into()), "web-1");
        let mut first_seen = FirstSeen::default();
        let first = at("2026-01-01T10:00:00Z");

        // Started, Ready 10 s later: the newest value is placed at first sight, the start 10 s before.
        let mut seen = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:10Z");
        first_seen.retime(&key, &mut seen, first);
        assert_eq!(seen["status"]["conditions"][0]["lastTransitionTime"], first.to_string());
        assert_eq!(seen["status"]["startTime"], at("2026-01-01T09:59:50Z").to_string());
        assert_eq!(seen["status"]["containerStatuses"][0]["state"]["running"]["startedAt"], at("2026-01-01T09:59:50Z").to_string());

        // Seen 5 minutes later: a new Ready transition 3 m 50 s after the first on the server's
        // clock keeps that distance; the start keeps the time it had.
        let mut again = pod("2025-06-01T00:00:00Z", "2025-06-01T00:04:00Z");
        first_seen.retime(&key, &mut again, at("2026-01-01T10:05:00Z"));
        assert_eq!(again["status"]["startTime"], at("2026-01-01T09:59:50Z").to_string());
        assert_eq!(again["status"]["conditions"][0]["lastTransitionTime"], at("2026-01-01T10:03:50Z").to_string());

        // A value newer than its sight on the offset so far (a runner clock that jumped back) is
        // placed at its sight, never after it.
        let mut jumped = pod("2025-06-01T00:00:00Z", "2025-06-01T01:00:00Z");
        first_seen.retime(&key, &mut jumped, at("2026-01-01T10:06:00Z"));
        assert_eq!(jumped["status"]["conditions"][0]["lastTransitionTime"], at("2026-01-01T10:06:00Z").to_string());

        first_seen.forget(&key);
        let mut recreated = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:10Z");
        first_seen.retime(&key, &mut recreated, at("2026-01-01T10:07:00Z"));
        assert_eq!(recreated["status"]["conditions"][0]["lastTransitionTime"], at("2026-01-01T10:07:00Z").to_string());
    }

    #[test]
    fn a_restarted_instance_keeps_its_start_and_stays_before_the_unready_transition_it_caused() {
        let key = ObjectRef::new("Pod", Some("shop".into()), "web-1");
        let mut first_seen = FirstSeen::default();
        let mut ready = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:02Z");
        first_seen.retime(&key, &mut ready, at("2026-01-01T10:00:00Z"));
        let started = ready["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].clone();

        // 3 s later on both clocks it crashed: unready, its start now under lastState, one
        // update with several new values.
        let mut crashed = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:05Z");
        crashed["status"]["conditions"][0]["status"] = json!("False");
        crashed["status"]["containerStatuses"][0] = json!({"name": "app",
            "state": {"running": {"startedAt": "2025-06-01T00:00:06Z"}},
            "lastState": {"terminated": {"startedAt": "2025-06-01T00:00:00Z", "finishedAt": "2025-06-01T00:00:05Z"}}});
        first_seen.retime(&key, &mut crashed, at("2026-01-01T10:00:04Z"));
        let status = &crashed["status"]["containerStatuses"][0];
        assert_eq!(status["lastState"]["terminated"]["startedAt"], started, "the instance keeps its start");
        let time = |v: &Value| at(v.as_str().unwrap());
        let unready = time(&crashed["status"]["conditions"][0]["lastTransitionTime"]);
        assert!(time(&started) < unready, "the instance started before the pod turned unready");
        assert!(time(&status["lastState"]["terminated"]["finishedAt"]) <= unready);
        assert!(time(&status["state"]["running"]["startedAt"]) <= at("2026-01-01T10:00:04Z"), "never after its sight");
    }

    #[test]
    fn other_kinds_keep_their_timestamps() {
        let key = ObjectRef::new("Deployment", Some("shop".into()), "web");
        let mut deployment = json!({"kind": "Deployment", "metadata": {"name": "web", "creationTimestamp": "2025-06-01T00:00:00Z"}});
        let before = deployment.clone();
        FirstSeen::default().retime(&key, &mut deployment, "2026-01-01T10:00:00Z".parse().unwrap());
        assert_eq!(deployment, before);
    }
}
