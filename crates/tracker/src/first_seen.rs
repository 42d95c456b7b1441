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

use foldhash::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::api::Pod;

/// Per Pod: how its server timestamps map onto rollwatch's clock, by the snapshot's key of it.
#[derive(Default)]
pub(crate) struct FirstSeen {
    pods: HashMap<Arc<ObjectRef>, PodTimes>,
}

/// The times of one Pod, kept by [`FirstSeen::keep`] once the Pod is stored.
#[derive(Default)]
pub(crate) struct PodTimes {
    /// Local time minus server time, for the values seen so far: the newest new value of the
    /// first update is taken to be as old as its first sight, and the offset only ever shrinks,
    /// so no value is placed after the moment rollwatch saw it.
    offset: Option<SignedDuration>,
    /// Each server timestamp in the Pod (by value, so an instance's start keeps its time when it
    /// moves from `state` to `lastState`) and its local time: a handful, so a list.
    seen: Vec<(Timestamp, Timestamp)>,
}

impl FirstSeen {
    /// Replaces the timestamps the time-based rules read in `pod` (the other kinds' rules read no
    /// times) by local times. A value seen before keeps its local time; the values new in this
    /// update keep their distances from each other on the server's clock (a container started
    /// before its pod turned unready stays before it: the rules compare them) and the newest of
    /// them is placed no later than `now`.
    ///
    /// A Pod seen for the first time gets its times back, for the caller to [`keep`](Self::keep)
    /// under the key the snapshot stores it by.
    #[must_use]
    pub(crate) fn retime(&mut self, key: &ObjectRef, pod: &mut Pod, now: Timestamp) -> Option<PodTimes> {
        let mut fresh = None;
        let times = match self.pods.get_mut(key) {
            Some(times) => times,
            None => fresh.insert(PodTimes::default()),
        };
        let mut present = Vec::new();
        for_each_rule_timestamp(pod, |time| present.push(time.0));
        let mut new: Vec<Timestamp> = present.iter().copied().filter(|server| !times.seen.iter().any(|(known, _)| known == server)).collect();
        // A value the Pod shows twice (a container started as its pod) is one value.
        new.sort_unstable();
        new.dedup();
        if let Some(newest) = new.iter().max() {
            let anchored = now.duration_since(*newest);
            times.offset = Some(times.offset.map_or(anchored, |offset| offset.min(anchored)));
        }
        for server in new {
            let local = match times.offset {
                Some(offset) => server.checked_add(offset).unwrap_or(now).min(now),
                None => now,
            };
            times.seen.push((server, local));
        }
        // Only what the Pod still shows is kept: its memory stays the size of one status.
        times.seen.retain(|(server, _)| present.contains(server));
        for_each_rule_timestamp(pod, |time| {
            if let Some((_, local)) = times.seen.iter().find(|(server, _)| *server == time.0) {
                time.0 = *local;
            }
        });
        times.seen.shrink_to_fit();
        match fresh {
            Some(times) => (!times.seen.is_empty()).then_some(times),
            None => {
                if self.pods.get(key).is_some_and(|times| times.seen.is_empty()) {
                    self.pods.remove(key);
                }
                None
            }
        }
    }

    /// Keeps the times [`retime`](Self::retime) gave back for a Pod new to it.
    pub(crate) fn keep(&mut self, key: Arc<ObjectRef>, times: PodTimes) {
        self.pods.insert(key, times);
    }

    /// The object is gone; a Pod of the same name later is a new Pod.
    pub(crate) fn forget(&mut self, key: &ObjectRef) {
        self.pods.remove(key);
    }
}

/// Calls `visit` with every timestamp in a Pod that a time-based rule reads (the pod's start and
/// creation, its conditions' transitions, its containers' starts and ends, current and last).
fn for_each_rule_timestamp(pod: &mut Pod, mut visit: impl FnMut(&mut Time)) {
    if let Some(created) = pod.metadata.creation_timestamp.as_mut() {
        visit(created);
    }
    let Some(status) = pod.status.as_mut() else { return };
    if let Some(started) = status.start_time.as_mut() {
        visit(started);
    }
    for condition in status.conditions.iter_mut().flatten() {
        if let Some(transition) = condition.last_transition_time.as_mut() {
            visit(transition);
        }
    }
    let containers = status.init_container_statuses.iter_mut().flatten().chain(status.container_statuses.iter_mut().flatten());
    for state in containers.flat_map(|container| [container.state.as_mut(), container.last_state.as_mut()]).flatten() {
        if let Some(running) = state.running.as_mut() {
            running.started_at.iter_mut().for_each(&mut visit);
        }
        if let Some(terminated) = state.terminated.as_mut() {
            terminated.started_at.iter_mut().chain(terminated.finished_at.iter_mut()).for_each(&mut visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// `pod` with its timestamps retimed, as JSON.
    fn retimed(first_seen: &mut FirstSeen, key: &ObjectRef, pod: Value, now: Timestamp) -> Value {
        let mut typed: Pod = serde_json::from_value(pod).unwrap();
        if let Some(times) = first_seen.retime(key, &mut typed, now) {
            first_seen.keep(Arc::new(key.clone()), times);
        }
        serde_json::to_value(&typed).unwrap()
    }

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
        let seen = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:10Z");
        let seen = retimed(&mut first_seen, &key, seen, first);
        assert_eq!(seen["status"]["conditions"][0]["lastTransitionTime"], first.to_string());
        assert_eq!(seen["status"]["startTime"], at("2026-01-01T09:59:50Z").to_string());
        assert_eq!(seen["status"]["containerStatuses"][0]["state"]["running"]["startedAt"], at("2026-01-01T09:59:50Z").to_string());

        // Seen 5 minutes later: a new Ready transition 3 m 50 s after the first on the server's
        // clock keeps that distance; the start keeps the time it had.
        let again = pod("2025-06-01T00:00:00Z", "2025-06-01T00:04:00Z");
        let again = retimed(&mut first_seen, &key, again, at("2026-01-01T10:05:00Z"));
        assert_eq!(again["status"]["startTime"], at("2026-01-01T09:59:50Z").to_string());
        assert_eq!(again["status"]["conditions"][0]["lastTransitionTime"], at("2026-01-01T10:03:50Z").to_string());

        // A value newer than its sight on the offset so far (a runner clock that jumped back) is
        // placed at its sight, never after it.
        let jumped = pod("2025-06-01T00:00:00Z", "2025-06-01T01:00:00Z");
        let jumped = retimed(&mut first_seen, &key, jumped, at("2026-01-01T10:06:00Z"));
        assert_eq!(jumped["status"]["conditions"][0]["lastTransitionTime"], at("2026-01-01T10:06:00Z").to_string());

        first_seen.forget(&key);
        let recreated = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:10Z");
        let recreated = retimed(&mut first_seen, &key, recreated, at("2026-01-01T10:07:00Z"));
        assert_eq!(recreated["status"]["conditions"][0]["lastTransitionTime"], at("2026-01-01T10:07:00Z").to_string());
    }

    #[test]
    fn a_restarted_instance_keeps_its_start_and_stays_before_the_unready_transition_it_caused() {
        let key = ObjectRef::new("Pod", Some("shop".into()), "web-1");
        let mut first_seen = FirstSeen::default();
        let ready = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:02Z");
        let ready = retimed(&mut first_seen, &key, ready, at("2026-01-01T10:00:00Z"));
        let started = ready["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].clone();

        // 3 s later on both clocks it crashed: unready, its start now under lastState, one
        // update with several new values.
        let mut crashed = pod("2025-06-01T00:00:00Z", "2025-06-01T00:00:05Z");
        crashed["status"]["conditions"][0]["status"] = json!("False");
        crashed["status"]["containerStatuses"][0] = json!({"name": "app",
            "state": {"running": {"startedAt": "2025-06-01T00:00:06Z"}},
            "lastState": {"terminated": {"startedAt": "2025-06-01T00:00:00Z", "finishedAt": "2025-06-01T00:00:05Z"}}});
        let crashed = retimed(&mut first_seen, &key, crashed, at("2026-01-01T10:00:04Z"));
        let status = &crashed["status"]["containerStatuses"][0];
        assert_eq!(status["lastState"]["terminated"]["startedAt"], started, "the instance keeps its start");
        let time = |v: &Value| at(v.as_str().unwrap());
        let unready = time(&crashed["status"]["conditions"][0]["lastTransitionTime"]);
        assert!(time(&started) < unready, "the instance started before the pod turned unready");
        assert!(time(&status["lastState"]["terminated"]["finishedAt"]) <= unready);
        assert!(time(&status["state"]["running"]["startedAt"]) <= at("2026-01-01T10:00:04Z"), "never after its sight");
    }
}
