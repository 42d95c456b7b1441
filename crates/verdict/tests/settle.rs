//! The settle window (issue #11): a rollout is ready only once its new pods have been Ready, with
//! no restart, for `Policy::stable_for` (10 s by default) from each pod's own Ready transition,
//! and a pod that dies inside its window fails the rollout at once. Objects are shaped as the API
//! server writes them: the Ready condition's lastTransitionTime, `lastState.terminated` with its
//! startedAt and finishedAt, restartCount.

use std::time::Duration;

use jiff::Timestamp;
use rollwatch_verdict::{ObjectRef, Policy, Settling, Snapshot, State, Verdict};
use serde_json::{Value, json};

/// When the new pods' containers started; the times below are offsets from it.
const T0: &str = "2026-01-01T00:00:00Z";

fn at(seconds: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_secs(seconds)
}

fn time(seconds: i64) -> String {
    at(seconds).to_string()
}

/// A readiness probe that can pass 2 s after the start.
fn probe() -> Value {
    json!({"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 2, "periodSeconds": 1})
}

fn container_spec(readiness: Option<Value>) -> Value {
    let mut container = json!({"name": "app", "image": "shop/web:2"});
    if let Some(probe) = readiness {
        container["readinessProbe"] = probe;
    }
    container
}

/// Deployment `web` (3 replicas, done by kubectl's rules) and its ReplicaSet `web-2222`.
fn workload(spec_extra: Value, readiness: Option<Value>) -> Vec<Value> {
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container_spec(readiness)]}});
    let mut spec = json!({"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template.clone()});
    for (key, value) in spec_extra.as_object().unwrap() {
        spec[key] = value.clone();
    }
    let mut rs_template = template;
    rs_template["metadata"]["labels"]["pod-template-hash"] = json!("2222");
    vec![
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "d-web", "generation": 2,
                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": spec,
            "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
        }),
        json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-2222", "namespace": "shop", "uid": "rs-2222", "generation": 1,
                         "labels": {"app": "web", "pod-template-hash": "2222"},
                         "annotations": {"deployment.kubernetes.io/revision": "2"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-web", "controller": true}]},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "2222"}}, "template": rs_template},
            "status": {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "observedGeneration": 1}
        }),
    ]
}

/// A pod of `web-2222` created at T0 - 1 s (when kubelet first wrote its Ready=False), whose
/// Ready condition is `ready` since `ready_at`, with container status `container`.
fn pod(name: &str, readiness: Option<Value>, ready: bool, ready_at: i64, container: Value) -> Value {
    let mut status = json!({"name": "app", "image": "shop/web:2", "imageID": "", "ready": ready, "restartCount": 0,
                            "started": true, "state": {"running": {"startedAt": time(0)}}});
    for (key, value) in container.as_object().unwrap() {
        status[key] = value.clone();
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("p-{name}"), "creationTimestamp": time(-1),
                     "labels": {"app": "web", "pod-template-hash": "2222"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-2222", "uid": "rs-2222", "controller": true}]},
        "spec": {"restartPolicy": "Always", "nodeName": "node-1", "containers": [container_spec(readiness)]},
        "status": {"phase": "Running", "startTime": time(-1),
                   "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": time(-1)},
                                  {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": time(ready_at)}],
                   "containerStatuses": [status]}
    })
}

/// Three healthy pods, Ready since the given offsets.
fn ready_pods(ready_at: [i64; 3]) -> Vec<Value> {
    ready_at.iter().enumerate().map(|(i, &ready)| pod(&format!("web-2222-{i}"), Some(probe()), true, ready, json!({}))).collect()
}

fn verdict_at(objects: &[Value], target: &str, policy: &Policy, now: i64) -> Verdict {
    let mut snapshot = Snapshot::new();
    for object in objects {
        snapshot.upsert(object.clone()).unwrap_or_else(|e| panic!("fixture rejected: {e}"));
    }
    snapshot.verdict(&target.parse::<ObjectRef>().unwrap().in_namespace("shop"), policy, at(now))
}

fn web_at(objects: &[Value], now: i64) -> Verdict {
    verdict_at(objects, "deploy/web", &Policy::default(), now)
}

fn with(mut objects: Vec<Value>, more: Vec<Value>) -> Vec<Value> {
    objects.extend(more);
    objects
}

fn instant() -> Policy {
    Policy { stable_for: Duration::ZERO, ..Policy::default() }
}

#[test]
fn by_default_a_rollout_waits_ten_seconds_from_its_pods_ready_transition() {
    assert_eq!(Policy::default().stable_for, Duration::from_secs(10));
    let objects = with(workload(json!({}), Some(probe())), ready_pods([3, 3, 3]));
    let settling = web_at(&objects, 7);
    assert_eq!(settling.state, State::Progressing);
    assert_eq!(settling.message, r#"Waiting for deployment "web" to be stable: 0 of 3 pods ready for 10s..."#);
    assert_eq!(settling.settling, Some(Settling { until: at(13) }));
    assert_eq!(settling.settling.unwrap().left(at(7)), Duration::from_secs(6));
    // The same verdict a second later: only the time left, counted from `until`, has changed.
    assert_eq!(web_at(&objects, 8), settling);
    let ready = web_at(&objects, 13);
    assert_eq!((ready.state, ready.message.as_str()), (State::Ready, r#"deployment "web" successfully rolled out"#));
    assert_eq!(ready.settling, None);
    // `--stable-for 0`: kubectl's instant verdict.
    assert_eq!(verdict_at(&objects, "deploy/web", &instant(), 3).state, State::Ready);
}

#[test]
fn each_pod_settles_from_its_own_ready_transition_so_early_waves_do_not_wait_again() {
    // A rolling update: the first waves became Ready long before the last pod.
    let objects = with(workload(json!({}), Some(probe())), ready_pods([-60, -30, 5]));
    let verdict = web_at(&objects, 9);
    assert_eq!(verdict.message, r#"Waiting for deployment "web" to be stable: 2 of 3 pods ready for 10s..."#);
    assert_eq!(verdict.settling, Some(Settling { until: at(15) }), "only the last pod's window is left");
    assert_eq!(web_at(&objects, 15).state, State::Ready);
}

#[test]
fn min_ready_seconds_and_the_window_count_the_same_seconds() {
    // The controller counted the pods available after minReadySeconds (10 s) from the same Ready
    // transition the window counts from: nothing is left to wait once it did.
    let objects = with(workload(json!({"minReadySeconds": 10}), Some(probe())), ready_pods([3, 3, 3]));
    assert_eq!(web_at(&objects, 13).state, State::Ready);
}

#[test]
fn without_the_pods_the_controllers_answer_stands() {
    // A dump of only the workloads (`kubectl get deploy -o json`) cannot show the window.
    assert_eq!(web_at(&workload(json!({}), Some(probe())), 0).state, State::Ready);
}

#[test]
fn a_crash_right_after_ready_fails_at_once_while_the_container_is_down() {
    // Ready at 2 s, exited with code 3 at 4 s; kubelet has not restarted it yet.
    let crashed = json!({"ready": false, "state": {"terminated": {"exitCode": 3, "reason": "Error", "startedAt": time(0), "finishedAt": time(4)}}});
    let mut objects = with(workload(json!({}), Some(probe())), vec![pod("web-2222-0", Some(probe()), false, 4, crashed)]);
    objects[0]["status"]["readyReplicas"] = json!(2);
    objects[0]["status"]["availableReplicas"] = json!(2);
    let verdict = web_at(&objects, 4);
    assert_eq!(verdict.state, State::Failed, "{verdict:#?}");
    assert_eq!(verdict.reasons[0].code, "NonZeroExit");
    assert_eq!(verdict.reasons[0].exit_code, Some(3));
    assert_eq!(
        verdict.reasons[0].message,
        "container app exited with code 3: Error (not restarted yet); its pod had been ready for less than the 10s settle window"
    );
    // With `--stable-for 0` it is the first restart, tolerated as before.
    let tolerated = verdict_at(&objects, "deploy/web", &instant(), 4);
    assert_eq!(tolerated.state, State::Progressing);
    assert_eq!(tolerated.reasons[0].code, "NonZeroExit");
}

/// The container restarted once: its first instance ran from 0 s to `finished`, the second since
/// `finished + 1`.
fn restarted(reason: &str, exit_code: i32, finished: i64) -> Value {
    json!({"restartCount": 1, "state": {"running": {"startedAt": time(finished + 1)}},
           "lastState": {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": time(0), "finishedAt": time(finished)}}})
}

#[test]
fn a_restart_after_ready_with_a_readiness_probe_fails_while_the_probe_holds_the_pod_back() {
    // Ready False since the crash at 4 s, after the crashed instance started: it had been Ready.
    let container = restarted("Error", 3, 4);
    let objects = with(workload(json!({}), Some(probe())), vec![pod("web-2222-0", Some(probe()), false, 4, container)]);
    let verdict = web_at(&objects, 6);
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(verdict.reasons[0].code, "NonZeroExit");
    assert!(verdict.message.contains("settle window"), "{}", verdict.message);
}

#[test]
fn a_restart_after_ready_without_a_readiness_probe_fails_even_once_ready_again() {
    // No probe: kubelet reported it Ready while it ran (0 s to 3 s), and again since 4 s.
    let container = restarted("Error", 1, 3);
    let objects = with(workload(json!({}), None), vec![pod("web-2222-0", None, true, 4, container.clone())]);
    let verdict = web_at(&objects, 5);
    assert_eq!(verdict.state, State::Failed, "{verdict:#?}");
    assert_eq!((verdict.reasons[0].code.as_str(), verdict.reasons[0].exit_code), ("NonZeroExit", Some(1)));
    // Once Ready for the whole window since, the pods have proven themselves: a steady workload
    // is not failed for a death long past.
    let steady: Vec<Value> = (0..3).map(|i| pod(&format!("web-2222-{i}"), None, true, 4, container.clone())).collect();
    assert_eq!(web_at(&with(workload(json!({}), None), steady), 3600).state, State::Ready);
    // One that crashed within its first second may never have been reported Ready: tolerated.
    let at_once = restarted("Error", 1, 0);
    let objects = with(workload(json!({}), None), vec![pod("web-2222-0", None, true, 1, at_once)]);
    assert_eq!(web_at(&objects, 2).state, State::Progressing);
}

#[test]
fn an_oom_kill_after_ready_fails_as_an_oom_kill() {
    let objects = with(workload(json!({}), None), vec![pod("web-2222-0", None, true, 6, restarted("OOMKilled", 137, 5))]);
    let verdict = web_at(&objects, 7);
    assert_eq!(verdict.state, State::Failed);
    assert_eq!((verdict.reasons[0].code.as_str(), verdict.reasons[0].exit_code), ("OOMKilled", Some(137)));
}

#[test]
fn a_liveness_kill_after_ready_fails_as_a_liveness_failure() {
    let killed = json!({"ready": false, "state": {"terminated": {"exitCode": 137, "reason": "Error", "startedAt": time(0), "finishedAt": time(6)}}});
    let event = json!({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-2222-0.1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-2222-0", "namespace": "shop", "fieldPath": "spec.containers{app}"},
        "reason": "Unhealthy", "message": "Liveness probe failed: HTTP probe failed with statuscode: 500", "type": "Warning",
        "firstTimestamp": time(4), "lastTimestamp": time(6)
    });
    let objects = with(workload(json!({}), Some(probe())), vec![pod("web-2222-0", Some(probe()), false, 6, killed), event]);
    let verdict = web_at(&objects, 6);
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(verdict.reasons[0].code, "LivenessProbeFailed");
    assert_eq!(verdict.reasons[0].exit_code, Some(137));
}

/// kubelet's event about container `app` of pod `web-2222-0` (uid `p-web-2222-0`), `count` times,
/// the last at `seconds` after T0.
fn kubelet_event(name: &str, reason: &str, message: &str, count: i32, seconds: i64) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-2222-0", "namespace": "shop", "uid": "p-web-2222-0", "fieldPath": "spec.containers{app}"},
        "reason": reason, "message": message, "type": if reason == "Unhealthy" { "Warning" } else { "Normal" },
        "count": count, "firstTimestamp": time(seconds), "lastTimestamp": time(seconds)
    })
}

const LIVENESS_KILL: &str = "Container app failed liveness probe, will be restarted";

#[test]
fn a_pod_whose_container_kubelet_is_restarting_is_not_up_whatever_its_status_says() {
    // As a real kubelet (v1.20.2) wrote it: the liveness probe failed at 3 s and kubelet announced
    // the kill; the status still shows the instance started at 0 s running (no restart yet), and
    // Ready since 5 s (the readiness probe, answered on the pod's address, passed meanwhile).
    let unhealthy = kubelet_event("web-2222-0.1", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404", 1, 3);
    let killing = kubelet_event("web-2222-0.2", "Killing", LIVENESS_KILL, 1, 3);
    let pods = ready_pods([5, -60, -60]);
    let objects = with(with(workload(json!({}), Some(probe())), pods.clone()), vec![unhealthy.clone(), killing.clone()]);
    let policy = Policy { stable_for: Duration::from_secs(2), ..Policy::default() };
    for now in [7, 60] {
        let verdict = verdict_at(&objects, "deploy/web", &policy, now);
        assert_eq!(verdict.state, State::Progressing, "{verdict:#?}");
        assert_eq!(verdict.message, r#"Waiting for deployment "web" to be stable: 2 of 3 pods ready for 2s..."#);
        assert_eq!(verdict.settling, None, "no window runs while the container is going down");
        assert_eq!(verdict.reasons[0].code, "LivenessProbeFailed");
        assert_eq!(verdict.reasons[0].message, "container app is being restarted: Liveness probe failed: HTTP probe failed with statuscode: 404");
    }
    // `--stable-for 0` asks for kubectl's instant answer, which reads only the counts.
    assert_eq!(verdict_at(&objects, "deploy/web", &instant(), 7).state, State::Ready);
    assert_eq!(verdict_at(&objects, "pod/web-2222-0", &policy, 7).state, State::Progressing);

    // Counted, not timed: the status's times may be on rollwatch's clock and the Event's on the
    // node's. Once the status shows the restart, the announced kill is behind it, even with the
    // Event dated after the new instance's start; a second kill announced is ahead of it again.
    let mut restarted = pod("web-2222-0", Some(probe()), true, 12, restarted("Error", 137, 10));
    let with_pod = |pod: &Value, events: Vec<Value>| {
        let pods = vec![pod.clone(), pods[1].clone(), pods[2].clone()];
        with(with(workload(json!({}), Some(probe())), pods), events)
    };
    let late = kubelet_event("web-2222-0.2", "Killing", LIVENESS_KILL, 1, 30);
    assert_eq!(verdict_at(&with_pod(&restarted, vec![unhealthy.clone(), late]), "deploy/web", &policy, 40).state, State::Ready);
    let again = kubelet_event("web-2222-0.2", "Killing", LIVENESS_KILL, 2, 0);
    assert_eq!(verdict_at(&with_pod(&restarted, vec![unhealthy.clone(), again.clone()]), "deploy/web", &policy, 40).state, State::Progressing);
    // The kills of an earlier pod of the same name (a StatefulSet's) are not this pod's.
    restarted["metadata"]["uid"] = json!("p-web-2222-0-new");
    assert_eq!(verdict_at(&with_pod(&restarted, vec![unhealthy, again]), "deploy/web", &policy, 40).state, State::Ready);

    // Stopped for good (the pod deleted): not a restart.
    let stopping = kubelet_event("web-2222-0.2", "Killing", "Stopping container app", 1, 3);
    let objects = with(with(workload(json!({}), Some(probe())), pods.clone()), vec![stopping]);
    assert_eq!(verdict_at(&objects, "deploy/web", &policy, 7).state, State::Ready);
    // A startup probe's or a changed definition's restart holds the pod back too, as a restart.
    let changed = kubelet_event("web-2222-0.2", "Killing", "Container app definition changed, will be restarted", 1, 3);
    let objects = with(with(workload(json!({}), Some(probe())), pods), vec![changed]);
    let verdict = verdict_at(&objects, "deploy/web", &policy, 7);
    assert_eq!((verdict.state, verdict.reasons[0].code.as_str()), (State::Progressing, "Restarts"), "{verdict:#?}");
    assert_eq!(verdict.reasons[0].message, "Container app definition changed, will be restarted");
}

#[test]
fn a_restart_before_ready_stays_tolerated() {
    // The first instance crashed at 1 s, before its probe could pass; Ready has been False since
    // the pod started, before that instance did.
    let container = json!({"ready": false, "restartCount": 1, "state": {"running": {"startedAt": time(2)}},
                           "lastState": {"terminated": {"exitCode": 3, "reason": "Error", "startedAt": time(0), "finishedAt": time(1)}}});
    let objects = with(workload(json!({}), Some(probe())), vec![pod("web-2222-0", Some(probe()), false, -1, container.clone())]);
    let verdict = web_at(&objects, 3);
    assert_eq!(verdict.state, State::Progressing, "{verdict:#?}");
    assert_eq!(verdict.reasons[0].code, "NonZeroExit");
    // The second instance became Ready at 4 s: it settles 10 s later, the restart not counted.
    let mut container = container;
    container["ready"] = json!(true);
    let pods = (0..3).map(|i| pod(&format!("web-2222-{i}"), Some(probe()), true, 4, container.clone())).collect();
    let objects = with(workload(json!({}), Some(probe())), pods);
    assert_eq!(web_at(&objects, 13).state, State::Progressing);
    assert_eq!(web_at(&objects, 14).state, State::Ready);
}

#[test]
fn a_restart_long_after_ready_is_outside_the_window() {
    // Ran a minute before it crashed: it had been up for longer than the window.
    let objects = with(workload(json!({}), Some(probe())), vec![pod("web-2222-0", Some(probe()), false, 60, restarted("Error", 3, 60))]);
    assert_eq!(web_at(&objects, 61).state, State::Progressing);
}

#[test]
fn completed_pods_are_not_delayed_but_running_bare_pods_settle() {
    let mut done = pod(
        "tool",
        None,
        false,
        5,
        json!({"ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": time(0), "finishedAt": time(5)}}}),
    );
    done["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    done["status"]["phase"] = json!("Succeeded");
    assert_eq!(verdict_at(&[done], "pod/tool", &Policy::default(), 5).state, State::Ready);

    let mut running = pod("tool", None, true, 1, json!({}));
    running["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    let settling = verdict_at(std::slice::from_ref(&running), "pod/tool", &Policy::default(), 5);
    assert_eq!(settling.state, State::Progressing);
    assert_eq!(settling.settling, Some(Settling { until: at(11) }));
    assert_eq!(verdict_at(&[running], "pod/tool", &Policy::default(), 11).state, State::Ready);
}

/// StatefulSet `db` of 2 replicas updated with partition 1: only `db-1` runs the update revision
/// (Ready since `updated_ready_at`); `db-0` keeps the current one, Ready long before.
fn partitioned_stateful_set(updated_ready_at: i64) -> Vec<Value> {
    let template = json!({"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [container_spec(None)]}});
    let stateful_set = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "s-db", "generation": 2},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template,
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}},
        "status": {"observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "currentReplicas": 1, "updatedReplicas": 1,
                   "currentRevision": "db-1111", "updateRevision": "db-2222", "availableReplicas": 2}
    });
    let db_pod = |ordinal: u32, revision: &str, ready_at: i64| {
        let mut pod = pod(&format!("db-{ordinal}"), None, true, ready_at, json!({}));
        pod["metadata"]["labels"] = json!({"app": "db", "controller-revision-hash": revision});
        pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s-db", "controller": true}]);
        pod
    };
    vec![stateful_set, db_pod(0, "db-1111", -1000), db_pod(1, "db-2222", updated_ready_at)]
}

#[test]
fn a_partitioned_update_settles_once_the_pods_above_the_partition_have() {
    // Only the pods at or above the partition take the update: the window waits for them, not
    // for every replica (it waited for 2 of 2 updated pods that can never be, and timed out).
    let objects = partitioned_stateful_set(2);
    let settling = verdict_at(&objects, "sts/db", &Policy::default(), 5);
    assert_eq!(settling.state, State::Progressing, "{settling:?}");
    assert_eq!(settling.settling, Some(Settling { until: at(12) }), "{settling:?}");
    let settled = verdict_at(&objects, "sts/db", &Policy::default(), 13);
    assert_eq!((settled.state, settled.message.as_str()), (State::Ready, "partitioned roll out complete: 1 new pods have been updated..."), "{settled:?}");
}
