//! Server timestamps, retimed to when rollwatch first saw them.
//!
//! The time-based rules (grace periods, the stable window) compare a Pod's timestamps — its
//! start, its conditions' transitions, its containers' starts and ends — with "now". Those
//! timestamps come from the API server's and kubelet's clocks; "now" comes from the runner's.
//! A runner whose clock is a minute fast would see every pull error as a minute old and fail it
//! at once. So while tracking, each such timestamp is replaced, before the snapshot sees it, by
//! the engine's time when rollwatch first saw that value: both sides of every comparison then
//! come from one monotonic clock. A value first seen at the start of tracking counts from then
//! (a condition already under way gets its full tolerance again: slower, never wrong), and one
//! first seen after an outage counts from its end. Offline `check` reads the server's timestamps
//! as they are, against its `--now`.

use std::collections::HashMap;

use jiff::Timestamp;
use rollwatch_verdict::ObjectRef;
use serde_json::Value;

/// Per Pod: each retimed field's server value and when rollwatch first saw it.
#[derive(Default)]
pub(crate) struct FirstSeen {
    pods: HashMap<ObjectRef, HashMap<String, (Value, Timestamp)>>,
}

impl FirstSeen {
    /// Replaces the timestamps the time-based rules read in `object` (Pods only: the other
    /// kinds' rules read no times) by when they were first seen, `now` for a new value.
    pub(crate) fn retime(&mut self, key: &ObjectRef, object: &mut Value, now: Timestamp) {
        if key.kind != "Pod" {
            return;
        }
        let before = self.pods.remove(key).unwrap_or_default();
        let mut after = HashMap::new();
        for_each_rule_timestamp(object, |field, value| {
            let first_seen = match before.get(&field) {
                Some((server, first_seen)) if *server == *value => *first_seen,
                _ => now,
            };
            after.insert(field, (value.clone(), first_seen));
            *value = Value::String(first_seen.to_string());
        });
        if !after.is_empty() {
            self.pods.insert(key.clone(), after);
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

    #[test]
    fn a_value_keeps_the_time_it_was_first_seen_and_a_changed_one_gets_the_present() {
        let key = ObjectRef::new("Pod", Some("shop".into()), "web-1");
        let mut first_seen = FirstSeen::default();
        let first: Timestamp = "2026-01-01T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-01-01T10:05:00Z".parse().unwrap();

        let mut seen = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:10Z");
        first_seen.retime(&key, &mut seen, first);
        assert_eq!(seen["status"]["startTime"], first.to_string());
        assert_eq!(seen["status"]["conditions"][0]["lastTransitionTime"], first.to_string());
        assert_eq!(seen["status"]["containerStatuses"][0]["state"]["running"]["startedAt"], first.to_string());

        // The same start, a new Ready transition: only the transition is new.
        let mut again = pod("2025-06-01T00:00:00Z", "2025-06-01T00:04:00Z");
        first_seen.retime(&key, &mut again, later);
        assert_eq!(again["status"]["startTime"], first.to_string());
        assert_eq!(again["status"]["conditions"][0]["lastTransitionTime"], later.to_string());

        first_seen.forget(&key);
        let mut recreated = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:10Z");
        first_seen.retime(&key, &mut recreated, later);
        assert_eq!(recreated["status"]["startTime"], later.to_string());
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
