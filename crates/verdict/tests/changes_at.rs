//! When a verdict changes by time alone (issue #18): every rule that reads the clock says when
//! its answer turns, and the verdict's `changes_at` is the earliest of those instants, exactly.
//! For each time rule: the verdict 1 ns before its instant is the verdict of the start, the
//! verdict at it is another. A tracker sleeps until then instead of judging every second.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rollwatch_verdict::capacity::Autoscaler;
use rollwatch_verdict::estimate::{Assumptions, estimate};
use rollwatch_verdict::{ObjectRef, Policy, Snapshot, State, Verdict};
use serde_json::{Value, json};

/// When the objects below started; times are offsets from it.
const T0: &str = "2026-01-01T00:00:00Z";

fn at(seconds: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

fn time(seconds: i64) -> String {
    at(seconds).to_string()
}

fn snapshot_of(objects: &[Value]) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for object in objects {
        snapshot.upsert(object.clone()).unwrap_or_else(|e| panic!("fixture rejected: {e}"));
    }
    snapshot
}

fn target(reference: &str) -> ObjectRef {
    let object: ObjectRef = reference.parse().unwrap();
    if object.kind == "APIService" { object } else { object.in_namespace("shop") }
}

/// The verdict of `judge` as of `from` and as of its `changes_at`, having checked that the instant
/// is exact: 1 ns before it the verdict is still the one of `from`, at it the verdict is another.
fn turns(judge: impl Fn(Timestamp) -> Verdict, from: Timestamp) -> (Verdict, Verdict, Timestamp) {
    let before = judge(from);
    let instant = before.changes_at.unwrap_or_else(|| panic!("no instant of change: {before:?}"));
    assert!(instant > from, "an instant of change in the past: {instant} for a verdict as of {from}");
    let just_before = judge(instant - SignedDuration::from_nanos(1));
    assert_eq!(just_before, before, "the verdict changed before its instant");
    let mut after = judge(instant);
    after.changes_at = None;
    let mut unchanged = before.clone();
    unchanged.changes_at = None;
    assert_ne!(after, unchanged, "nothing changed at {instant}");
    (before, after, instant)
}

/// [`turns`] for `target` among `objects` judged with `policy`.
fn turns_for(objects: &[Value], reference: &str, policy: &Policy, from: Timestamp) -> (Verdict, Verdict, Timestamp) {
    let snapshot = snapshot_of(objects);
    turns(|now| snapshot.verdict(&target(reference), policy, now), from)
}

fn pod(name: &str, spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("p-{name}"), "creationTimestamp": time(0)},
        "spec": spec,
        "status": status,
    })
}

fn app(extra: Value) -> Value {
    let mut container = json!({"name": "app", "image": "shop/app:2"});
    for (key, value) in extra.as_object().unwrap() {
        container[key] = value.clone();
    }
    json!({"containers": [container]})
}

fn waiting(reason: &str) -> Value {
    json!({"phase": "Pending", "startTime": time(0),
           "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False", "lastTransitionTime": time(0)}],
           "containerStatuses": [{"name": "app", "image": "shop/app:2", "imageID": "", "ready": false, "restartCount": 0,
                                  "state": {"waiting": {"reason": reason, "message": "rpc error"}}}]})
}

/// Running since T0, Ready (since `ready_at`) or not.
fn running(ready_at: Option<i64>) -> Value {
    let ready = match ready_at {
        Some(since) => json!({"type": "Ready", "status": "True", "lastTransitionTime": time(since)}),
        None => json!({"type": "Ready", "status": "False", "lastTransitionTime": time(0)}),
    };
    json!({"phase": "Running", "startTime": time(0),
           "conditions": [{"type": "PodScheduled", "status": "True"}, ready],
           "containerStatuses": [{"name": "app", "image": "shop/app:2", "imageID": "x", "ready": ready_at.is_some(), "restartCount": 0,
                                  "state": {"running": {"startedAt": time(0)}}}]})
}

fn instant() -> Policy {
    Policy { stable_for: Duration::ZERO, ..Policy::default() }
}

#[test]
fn a_retried_image_pull_fails_when_the_waiting_grace_runs_out() {
    let policy = Policy { waiting_grace: Duration::from_secs(90), ..Policy::default() };
    let (before, after, instant) = turns_for(&[pod("tool", app(json!({})), waiting("ErrImagePull"))], "pod/tool", &policy, at(5));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(90)));
}

#[test]
fn an_unschedulable_pod_fails_when_its_grace_runs_out_with_or_without_an_autoscaler() {
    let mut status = json!({"phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": time(0),
                        "message": "0/3 nodes are available: 3 Insufficient cpu."}]});
    status["startTime"] = Value::Null;
    let objects = [pod("tool", app(json!({})), status)];
    let policy = Policy { unschedulable_grace: Duration::from_secs(120), ..Policy::default() };
    for (autoscaler, grace) in [(Autoscaler::Unknown, 120), (Autoscaler::Absent, 15)] {
        let mut snapshot = snapshot_of(&objects);
        snapshot.set_autoscaler(autoscaler);
        let (before, after, instant) = turns(|now| snapshot.verdict(&target("pod/tool"), &policy, now), at(1));
        assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(grace)), "{autoscaler:?}");
    }
}

#[test]
fn a_readiness_probe_that_never_passes_fails_after_its_window_and_the_grace() {
    let probe = json!({"readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 5, "periodSeconds": 10, "failureThreshold": 3}});
    let policy = Policy { readiness_grace: Duration::from_secs(30), ..instant() };
    let (before, after, instant) = turns_for(&[pod("tool", app(probe), running(None))], "pod/tool", &policy, at(2));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(5 + 3 * 10 + 30)));
    assert_eq!(after.reasons[0].code, "ReadinessProbeFailing");
}

#[test]
fn a_resize_kubelet_fails_to_apply_counts_after_the_waiting_grace() {
    let mut status = running(Some(0));
    status["conditions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "PodResizeInProgress", "status": "True", "reason": "Error", "lastTransitionTime": time(20)}));
    let policy = Policy { waiting_grace: Duration::from_secs(60), ..instant() };
    let (before, after, instant) = turns_for(&[pod("tool", app(json!({})), status)], "pod/tool", &policy, at(30));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(80)));
}

#[test]
fn a_pod_in_its_settle_window_is_ready_when_the_window_is_full_and_then_nothing_is_due() {
    let policy = Policy { stable_for: Duration::from_secs(10), ..Policy::default() };
    let objects = [pod("tool", app(json!({})), running(Some(3)))];
    let (before, after, instant) = turns_for(&objects, "pod/tool", &policy, at(4));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Ready, at(13)));
    assert_eq!(after.changes_at, None, "a ready pod changes by no time: {after:?}");
    assert_eq!(snapshot_of(&objects).verdict(&target("pod/tool"), &policy, at(3600)).changes_at, None);
}

#[test]
fn a_replica_set_that_cannot_create_pods_fails_after_the_waiting_grace() {
    let replica_set = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "shop", "uid": "rs-web", "generation": 1},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
        "status": {"replicas": 0, "observedGeneration": 1,
                   "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "lastTransitionTime": time(10),
                                   "message": "pods \"web-x\" is forbidden: exceeded quota"}]},
    });
    let policy = Policy { waiting_grace: Duration::from_secs(60), ..instant() };
    let (before, after, instant) = turns_for(&[replica_set], "rs/web", &policy, at(10));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(70)));
}

#[test]
fn a_job_fails_when_its_active_deadline_passes() {
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop", "uid": "j-migrate", "generation": 1},
        "spec": {"activeDeadlineSeconds": 300, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m"}]}}},
        "status": {"startTime": time(0), "active": 1},
    });
    let (before, after, instant) = turns_for(&[job], "job/migrate", &instant(), at(100));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(300)));
    assert_eq!(after.reasons[0].code, "DeadlineExceeded");
}

#[test]
fn an_autoscaler_without_metrics_and_an_unavailable_api_service_fail_after_the_waiting_grace() {
    let autoscaler = json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop", "uid": "h-web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 3},
        "status": {"conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "lastTransitionTime": time(0),
                                   "message": "unable to get metrics"}]},
    });
    let api_service = json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io", "uid": "a-metrics"},
        "spec": {"group": "metrics.k8s.io", "version": "v1beta1"},
        "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints", "lastTransitionTime": time(0)}]},
    });
    let policy = Policy { waiting_grace: Duration::from_secs(45), ..instant() };
    for (object, reference) in [(autoscaler, "hpa/web"), (api_service, "apiservice/v1beta1.metrics.k8s.io")] {
        let (before, after, instant) = turns_for(&[object], reference, &policy, at(1));
        assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(45)), "{reference}");
    }
}

#[test]
fn nothing_progressing_fails_when_the_no_progress_timeout_runs_out_from_the_last_change_seen() {
    let objects = [pod("tool", app(json!({})), waiting("ContainerCreating"))];
    let snapshot = snapshot_of(&objects);
    let policy = Policy { no_progress_timeout: Some(Duration::from_secs(600)), ..Policy::default() };
    let (before, after, instant) = turns(|now| snapshot.verdict_observed(&target("pod/tool"), &policy, now, at(50)), at(60));
    assert_eq!((before.state, after.state, instant), (State::Progressing, State::Failed, at(650)));
    assert_eq!(after.reasons[0].code, "NoProgress");
}

#[test]
fn each_rule_gives_its_own_instant_as_of_the_same_time() {
    // One pod pulls (grace 60 s from T0), another waits out its settle window (ready at 30 s).
    let objects = [pod("a", app(json!({})), waiting("ErrImagePull")), pod("b", app(json!({})), running(Some(30)))];
    let snapshot = snapshot_of(&objects);
    let policy = Policy { waiting_grace: Duration::from_secs(60), stable_for: Duration::from_secs(10), ..Policy::default() };
    assert_eq!(snapshot.verdict(&target("pod/a"), &policy, at(35)).changes_at, Some(at(60)));
    let (settling, ready, instant) = turns(|now| snapshot.verdict(&target("pod/b"), &policy, now), at(35));
    assert_eq!((settling.state, ready.state, instant), (State::Progressing, State::Ready, at(40)));
}

#[test]
fn a_rollout_is_slower_than_expected_exactly_from_the_instant_its_pace_says() {
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 2},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
    });
    let pace = estimate(&deployment, &Assumptions::default()).unwrap().pace(Duration::from_secs(5), 1);
    let from = pace.slower_from().expect("a rollout under way turns slower at some point");
    assert!(!pace.after(from - pace.elapsed - Duration::from_nanos(1)).slower_than_expected());
    assert!(pace.after(from - pace.elapsed).slower_than_expected());
    let done = estimate(&deployment, &Assumptions::default()).unwrap().pace(Duration::from_secs(5), 3);
    assert_eq!(done.slower_from(), None, "a finished rollout is never slower");
}
