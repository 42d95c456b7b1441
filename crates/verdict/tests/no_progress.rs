//! `NoProgress`: a rollout that is not ready and whose statuses stopped changing fails after the
//! no-progress timeout, offline judged by the newest timestamp its statuses carry. Objects as the
//! API server returns them (`kubectl get -o json`, v1.20 to v1.33).

use std::time::Duration;

use jiff::Timestamp;
use rollwatch_verdict::{ObjectRef, Policy, Snapshot, State, Verdict};
use serde_json::{Value, json};

/// When the pod was created and its init container started: the newest time in any status.
const STUCK_SINCE: &str = "2026-01-01T00:00:05Z";

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "d-web", "generation": 1, "creationTimestamp": "2026-01-01T00:00:00Z",
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "shop/web:1"}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
                   "conditions": [
                       {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability.",
                        "lastUpdateTime": "2026-01-01T00:00:01Z", "lastTransitionTime": "2026-01-01T00:00:01Z"},
                       {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": "ReplicaSet \"web-5d4f\" is progressing.",
                        "lastUpdateTime": "2026-01-01T00:00:01Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    })
}

fn replica_set() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d4f", "namespace": "shop", "uid": "rs-web", "generation": 1, "creationTimestamp": "2026-01-01T00:00:00Z",
                     "labels": {"app": "web", "pod-template-hash": "5d4f"},
                     "annotations": {"deployment.kubernetes.io/revision": "1"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-web", "controller": true}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f"}},
                 "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "5d4f"}}, "spec": {"containers": [{"name": "app", "image": "shop/web:1"}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "fullyLabeledReplicas": 1}
    })
}

/// Scheduled, its init container `migrate` running since STUCK_SINCE, the app waiting behind it.
fn initializing_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-5d4f-x7k2p", "namespace": "shop", "uid": "p-web", "creationTimestamp": "2026-01-01T00:00:01Z",
                     "labels": {"app": "web", "pod-template-hash": "5d4f"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f", "uid": "rs-web", "controller": true}]},
        "spec": {"nodeName": "node-1",
                 "initContainers": [{"name": "migrate", "image": "shop/migrate:1"}],
                 "containers": [{"name": "app", "image": "shop/web:1"}]},
        "status": {
            "phase": "Pending", "startTime": "2026-01-01T00:00:02Z", "hostIP": "10.0.0.1", "podIP": "10.1.0.7", "qosClass": "BestEffort",
            "conditions": [
                {"type": "Initialized", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-01T00:00:02Z",
                 "reason": "ContainersNotInitialized", "message": "containers with incomplete status: [migrate]"},
                {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-01T00:00:02Z",
                 "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
                {"type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-01-01T00:00:02Z",
                 "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-01T00:00:01Z"}],
            "initContainerStatuses": [{"name": "migrate", "image": "shop/migrate:1", "imageID": "docker-pullable://shop/migrate@sha256:aa", "ready": false,
                                       "restartCount": 0, "started": true, "state": {"running": {"startedAt": STUCK_SINCE}}, "lastState": {}}],
            "containerStatuses": [{"name": "app", "image": "shop/web:1", "imageID": "", "ready": false, "restartCount": 0, "started": false,
                                   "state": {"waiting": {"reason": "PodInitializing"}}, "lastState": {}}]
        }
    })
}

fn judge(objects: &[Value], target: &str, policy: &Policy, now: &str) -> Verdict {
    let mut snapshot = Snapshot::new();
    for object in objects {
        snapshot.upsert(object.clone()).unwrap();
    }
    let object = target.parse::<ObjectRef>().unwrap().in_namespace("shop");
    snapshot.verdict(&object, policy, now.parse().unwrap())
}

fn timeout(minutes: u64) -> Policy {
    Policy { no_progress_timeout: Some(Duration::from_secs(minutes * 60)), ..Policy::default() }
}

#[test]
fn a_rollout_whose_statuses_stopped_changing_fails_after_the_timeout_with_its_last_state() {
    let objects = [deployment(), replica_set(), initializing_pod()];
    let within = judge(&objects, "deploy/web", &timeout(5), "2026-01-01T00:05:04Z");
    assert_eq!(within.state, State::Progressing, "{within:?}");

    let stuck = judge(&objects, "deploy/web", &timeout(5), "2026-01-01T00:05:05Z");
    assert_eq!(stuck.state, State::Failed, "{stuck:?}");
    assert_eq!(stuck.message, r#"deployment "web" failed: no progress for 5m: pod web-5d4f-x7k2p Pending: PodInitializing"#);
    let reason = &stuck.reasons[0];
    assert_eq!(reason.code, "NoProgress");
    assert_eq!(reason.object, ObjectRef::new("Pod", Some("shop".into()), "web-5d4f-x7k2p"));
    assert_eq!(reason.since, Some(STUCK_SINCE.parse::<Timestamp>().unwrap()), "since the newest timestamp of any status");

    // The pod alone reads the same.
    let pod = judge(&[initializing_pod()], "pod/web-5d4f-x7k2p", &timeout(5), "2026-01-01T03:00:00Z");
    assert_eq!(pod.message, r#"pod "web-5d4f-x7k2p" failed: no progress for 5m: pod web-5d4f-x7k2p Pending: PodInitializing"#);
}

#[test]
fn without_the_timeout_a_stuck_rollout_keeps_progressing() {
    let objects = [deployment(), replica_set(), initializing_pod()];
    let verdict = judge(&objects, "deploy/web", &Policy::default(), "2026-01-02T00:00:00Z");
    assert_eq!(verdict.state, State::Progressing, "{verdict:?}");
}

#[test]
fn a_newer_change_in_any_pod_status_restarts_the_count() {
    let mut pod = initializing_pod();
    // The init container finished at 00:04:00; the app container is being created.
    pod["status"]["initContainerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": STUCK_SINCE, "finishedAt": "2026-01-01T00:04:00Z"}});
    pod["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
    let objects = [deployment(), replica_set(), pod];
    assert_eq!(judge(&objects, "deploy/web", &timeout(5), "2026-01-01T00:08:59Z").state, State::Progressing);
    let stuck = judge(&objects, "deploy/web", &timeout(5), "2026-01-01T00:09:00Z");
    assert_eq!(stuck.reasons[0].message, "no progress for 5m: pod web-5d4f-x7k2p Pending: ContainerCreating");
}

#[test]
fn ready_and_failed_verdicts_are_not_touched() {
    let mut pod = initializing_pod();
    pod["status"]["initContainerStatuses"][0]["state"] = json!({"waiting": {"reason": "InvalidImageName", "message": "bad reference"}});
    let failed = judge(&[pod], "pod/web-5d4f-x7k2p", &timeout(5), "2026-01-01T03:00:00Z");
    assert_eq!(failed.reasons[0].code, "InvalidImageName", "{failed:?}");

    let ready = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "tool", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "shop/tool:1"}]},
        "status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z",
                   "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-01T00:00:03Z"}],
                   "containerStatuses": [{"name": "app", "image": "shop/tool:1", "imageID": "x", "ready": true, "restartCount": 0, "started": true,
                                          "state": {"running": {"startedAt": "2026-01-01T00:00:02Z"}}, "lastState": {}}]}
    });
    assert_eq!(judge(&[ready], "pod/tool", &timeout(5), "2026-01-01T03:00:00Z").state, State::Ready);
}

#[test]
fn a_caller_that_watched_the_statuses_says_when_they_last_changed() {
    let mut snapshot = Snapshot::new();
    for object in [deployment(), replica_set(), initializing_pod()] {
        snapshot.upsert(object).unwrap();
    }
    let web = ObjectRef::new("Deployment", Some("shop".into()), "web");
    let now: Timestamp = "2026-01-01T03:00:00Z".parse().unwrap();
    // Hours after the statuses' newest timestamp, but the tracker saw a change a minute ago.
    let seen_changing: Timestamp = "2026-01-01T02:59:00Z".parse().unwrap();
    assert_eq!(snapshot.verdict_observed(&web, &timeout(5), now, seen_changing).state, State::Progressing);
    assert_eq!(snapshot.verdict(&web, &timeout(5), now).state, State::Failed);
}
