//! Table tests for the verdict rules, one section per kind, with objects shaped as the API server
//! returns them (`kubectl get -o json`). Unless a test says otherwise the clock reads [`NOW`], and
//! pods started ten minutes before it (past every default grace) or ten seconds before it.

use std::time::Duration;

use jiff::Timestamp;
use rollwatch_verdict::{ObjectRef, Policy, Progress, Snapshot, State, Verdict, parse_documents, parse_manifests};
use serde_json::{Value, json};

const NOW: &str = "2026-01-01T00:10:00Z";
/// Ten minutes before NOW: past the default waiting (60 s), unschedulable (120 s) graces.
const LONG_AGO: &str = "2026-01-01T00:00:00Z";
/// Ten seconds before NOW: within every default grace.
const JUST_NOW: &str = "2026-01-01T00:09:50Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn verdict_with(objects: &[Value], target: &str, policy: &Policy) -> Verdict {
    let mut snapshot = Snapshot::new();
    for object in objects {
        snapshot.upsert(object.clone()).unwrap_or_else(|e| panic!("fixture rejected: {e}"));
    }
    let object = target.parse::<ObjectRef>().unwrap().in_namespace("shop");
    snapshot.verdict(&object, policy, now())
}

fn verdict(objects: &[Value], target: &str) -> Verdict {
    verdict_with(objects, target, &Policy::default())
}

fn codes(verdict: &Verdict) -> Vec<&str> {
    verdict.reasons.iter().map(|r| r.code.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Fixtures: a Deployment `web` (uid d-web) at revision 2, its ReplicaSets and their pods.

fn template(image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "web"});
    if let Some(hash) = hash {
        labels["pod-template-hash"] = json!(hash);
    }
    json!({
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "app", "image": image, "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}}]}
    })
}

fn deployment(spec_extra: Value, status: Value) -> Value {
    let mut spec = json!({"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template("shop/web:2", None)});
    merge(&mut spec, spec_extra);
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "d-web", "generation": 2,
                     "annotations": {"deployment.kubernetes.io/revision": "2"}},
        "spec": spec, "status": status
    })
}

fn replica_set(name: &str, hash: &str, revision: u32, image: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("rs-{hash}"), "generation": 1,
                     "labels": {"app": "web", "pod-template-hash": hash},
                     "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-web", "controller": true}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash}}, "template": template(image, Some(hash))},
        "status": {"replicas": replicas, "observedGeneration": 1}
    })
}

/// The two ReplicaSets of `web`: old (`web-1111`, shop/web:1) and new (`web-2222`, shop/web:2).
fn replica_sets() -> Vec<Value> {
    vec![replica_set("web-1111", "1111", 1, "shop/web:1", 1), replica_set("web-2222", "2222", 2, "shop/web:2", 3)]
}

/// A pod owned by `owner` (kind, name, uid) with `labels`, started at `started`, with container
/// status `container` (merged over a running, ready `app` container).
fn pod(name: &str, owner: (&str, &str, &str), labels: Value, started: &str, container: Value) -> Value {
    let mut status = json!({"name": "app", "image": "shop/web:2", "imageID": "", "ready": true, "restartCount": 0,
                            "started": true, "state": {"running": {"startedAt": started}}});
    merge(&mut status, container);
    let ready = status["ready"].as_bool().unwrap_or(false);
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("p-{name}"), "creationTimestamp": started, "labels": labels,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner.0, "name": owner.1, "uid": owner.2, "controller": true}]},
        "spec": {"restartPolicy": "Always", "nodeName": "node-1",
                 "containers": [{"name": "app", "image": "shop/web:2", "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}}]},
        "status": {"phase": "Running", "startTime": started,
                   "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
                                  {"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": started}],
                   "containerStatuses": [status]}
    })
}

fn new_pod(name: &str, started: &str, container: Value) -> Value {
    pod(name, ("ReplicaSet", "web-2222", "rs-2222"), json!({"app": "web", "pod-template-hash": "2222"}), started, container)
}

fn old_pod(name: &str, container: Value) -> Value {
    pod(name, ("ReplicaSet", "web-1111", "rs-1111"), json!({"app": "web", "pod-template-hash": "1111"}), LONG_AGO, container)
}

fn event(name: &str, about: (&str, &str), field_path: Option<&str>, reason: &str, message: &str) -> Value {
    let mut involved = json!({"kind": about.0, "name": about.1, "namespace": "shop"});
    if let Some(path) = field_path {
        involved["fieldPath"] = json!(path);
    }
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "shop"},
        "involvedObject": involved, "reason": reason, "message": message, "type": "Warning",
        "firstTimestamp": LONG_AGO, "lastTimestamp": JUST_NOW
    })
}

fn waiting(reason: &str, message: &str) -> Value {
    json!({"ready": false, "started": false, "state": {"running": null, "waiting": {"reason": reason, "message": message}}})
}

/// Mid-rollout status: 2 of 3 updated, 1 old replica left, 2 available.
fn rolling_status() -> Value {
    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3})
}

fn done_status() -> Value {
    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3})
}

fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    base.remove(&key);
                } else {
                    merge(base.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (base, patch) => *base = patch,
    }
}

fn family(deployment: Value, pods: Vec<Value>) -> Vec<Value> {
    let mut objects = vec![deployment];
    objects.extend(replica_sets());
    objects.extend(pods);
    objects
}

// ---------------------------------------------------------------------------------------------
// Deployment

#[test]
fn deployment_messages_and_progress_follow_kubectl() {
    let cases = [
        (done_status(), State::Ready, r#"deployment "web" successfully rolled out"#),
        (
            json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
            State::Progressing,
            "Waiting for deployment spec update to be observed...",
        ),
        (rolling_status(), State::Progressing, r#"Waiting for deployment "web" rollout to finish: 2 out of 3 new replicas have been updated..."#),
        (
            json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
            State::Progressing,
            r#"Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination..."#,
        ),
        (
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
            State::Progressing,
            r#"Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available..."#,
        ),
    ];
    for (status, state, message) in cases {
        let verdict = verdict(&family(deployment(json!({}), status.clone()), vec![]), "deploy/web");
        assert_eq!((verdict.state, verdict.message.as_str()), (state, message), "status {status}");
    }
    let verdict = verdict(&family(deployment(json!({}), rolling_status()), vec![]), "deploy/web");
    assert_eq!(verdict.progress, Some(Progress { desired: 3, updated: 2, ready: 3, available: 3, old_pending_termination: 2 }));
}

#[test]
fn progress_deadline_exceeded_fails_with_the_controllers_message() {
    let mut status = rolling_status();
    status["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": "ReplicaSet \"web-2222\" has timed out progressing.", "lastTransitionTime": JUST_NOW}]);
    let verdict = verdict(&family(deployment(json!({}), status), vec![]), "deploy/web");
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(verdict.message, r#"deployment "web" exceeded its progress deadline"#);
    assert_eq!(codes(&verdict), ["ProgressDeadlineExceeded"]);
    assert_eq!(verdict.reasons[0].message, "ReplicaSet \"web-2222\" has timed out progressing.");
    assert_eq!(verdict.reasons[0].since, Some(JUST_NOW.parse().unwrap()));
}

#[test]
fn replica_failure_fails_with_the_clusters_message() {
    let quota = "pods \"web-2222-x\" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=4, limited: cpu=4";
    // On the Deployment itself, as the deployment controller copies it.
    let mut status = rolling_status();
    status["conditions"] = json!([{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": quota}]);
    let on_deployment = verdict(&family(deployment(json!({}), status), vec![]), "deploy/web");
    // Only on the new ReplicaSet (the Deployment's status not yet updated): an admission denial.
    let denied = "admission webhook \"policy.example.com\" denied the request: images must be signed";
    let mut objects = family(deployment(json!({}), rolling_status()), vec![]);
    objects[2]["status"]["conditions"] = json!([{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": denied}]);
    let on_replica_set = verdict(&objects, "deploy/web");

    for (verdict, message, about) in [(on_deployment, quota, "deployment/web"), (on_replica_set, denied, "replicaset/web-2222")] {
        assert_eq!(verdict.state, State::Failed);
        assert_eq!(verdict.message, format!("deployment \"web\" cannot create pods: {message}"));
        assert_eq!(codes(&verdict), ["FailedCreate"]);
        assert_eq!(verdict.reasons[0].object.to_string(), about);
    }
}

#[test]
fn paused_deployment_is_paused_until_done() {
    let paused = verdict(&family(deployment(json!({"paused": true}), rolling_status()), vec![]), "deploy/web");
    assert_eq!(paused.state, State::Paused);
    assert_eq!(paused.message, r#"deployment "web" is paused: Waiting for deployment "web" rollout to finish: 2 out of 3 new replicas have been updated..."#);
    let done = verdict(&family(deployment(json!({"paused": true}), done_status()), vec![]), "deploy/web");
    assert_eq!(done.state, State::Ready);
}

#[test]
fn terminating_old_pods_are_waited_for_only_when_asked() {
    let waiting_for_them = Policy { wait_for_terminating: true, ..Policy::default() };
    // 1.33+: the controller counts them in status.terminatingReplicas.
    let mut status = done_status();
    status["terminatingReplicas"] = json!(2);
    let objects = family(deployment(json!({}), status), vec![]);
    assert_eq!(verdict(&objects, "deploy/web").state, State::Ready, "kubectl's rule by default");
    let held = verdict_with(&objects, "deploy/web", &waiting_for_them);
    assert_eq!(held.state, State::Progressing);
    assert_eq!(held.message, r#"Waiting for deployment "web" rollout to finish: 2 old pods are still terminating..."#);
    assert_eq!(codes(&held), ["TerminatingReplicas"]);
    // Older servers: the old ReplicaSet's pods being deleted tell the same.
    let mut leaving = old_pod("web-1111-a", json!({}));
    leaving["metadata"]["deletionTimestamp"] = json!(JUST_NOW);
    let objects = family(deployment(json!({}), done_status()), vec![leaving]);
    assert_eq!(verdict_with(&objects, "deploy/web", &waiting_for_them).state, State::Progressing);
    let gone = family(deployment(json!({}), done_status()), vec![]);
    assert_eq!(verdict_with(&gone, "deploy/web", &waiting_for_them).state, State::Ready);
    // A ReplicaSet on its own, likewise.
    let mut rs = replica_set("cache", "c1", 1, "redis:7", 2);
    rs["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    rs["status"] = json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "terminatingReplicas": 1});
    let verdict = verdict_with(&[rs], "rs/cache", &waiting_for_them);
    assert_eq!(verdict.message, r#"Waiting for replica set "cache" rollout to finish: 1 old pods are still terminating..."#);
}

#[test]
fn image_pull_trouble_on_the_new_replica_set_is_tolerated_then_fails() {
    let pull = waiting("ImagePullBackOff", "Back-off pulling image \"shop/web:2\"");
    // Within the grace: progressing, with the trouble shown.
    let young = verdict(&family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", JUST_NOW, pull.clone())]), "deploy/web");
    assert_eq!(young.state, State::Progressing);
    assert_eq!(codes(&young), ["ImagePullBackOff"]);
    // Past it: failed, naming the pod and the container.
    let old = verdict(&family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", LONG_AGO, pull)]), "deploy/web");
    assert_eq!(old.state, State::Failed);
    assert_eq!(old.message, r#"deployment "web" failed: pod/web-2222-a (app): ImagePullBackOff: Back-off pulling image "shop/web:2""#);
    assert_eq!(old.reasons[0].container.as_deref(), Some("app"));
    // kubelet's last pull error says why the back-off happens.
    let failed_pull =
        event("web-2222-a.3", ("Pod", "web-2222-a"), Some("spec.containers{app}"), "Failed", "Failed to pull image \"shop/web:2\": manifest unknown");
    let objects = family(
        deployment(json!({}), rolling_status()),
        vec![new_pod("web-2222-a", LONG_AGO, waiting("ImagePullBackOff", "Back-off pulling image \"shop/web:2\"")), failed_pull],
    );
    assert_eq!(
        verdict(&objects, "deploy/web").reasons[0].message,
        r#"Back-off pulling image "shop/web:2": Failed to pull image "shop/web:2": manifest unknown"#
    );
    // A longer grace tolerates it again.
    let patient = Policy { waiting_grace: Duration::from_secs(3600), ..Policy::default() };
    let objects = family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", LONG_AGO, waiting("ErrImagePull", "not found"))]);
    assert_eq!(verdict_with(&objects, "deploy/web", &patient).state, State::Progressing);
}

#[test]
fn only_pods_of_the_current_revision_count() {
    let crashing = json!({"ready": false, "restartCount": 9, "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                          "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}});
    let objects = family(deployment(json!({}), rolling_status()), vec![old_pod("web-1111-a", crashing.clone()), new_pod("web-2222-a", LONG_AGO, json!({}))]);
    let verdict_old = verdict(&objects, "deploy/web");
    assert_eq!(verdict_old.state, State::Progressing);
    assert!(verdict_old.reasons.is_empty());
    let objects = family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", LONG_AGO, crashing)]);
    let verdict_new = verdict(&objects, "deploy/web");
    assert_eq!(verdict_new.state, State::Failed);
    assert_eq!(codes(&verdict_new), ["CrashLoopBackOff"]);
    assert_eq!(verdict_new.reasons[0].exit_code, Some(1));
    // A template the controller has not made a ReplicaSet for yet: no pod is current.
    let mut changed = deployment(json!({}), rolling_status());
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("shop/web:3");
    let objects = family(changed, vec![new_pod("web-2222-a", LONG_AGO, waiting("InvalidImageName", "bad"))]);
    assert_eq!(verdict(&objects, "deploy/web").state, State::Progressing);
}

// ---------------------------------------------------------------------------------------------
// Pod-level failures, seen through the Deployment's current pods.

/// (case, pod status patch, restartPolicy, expected state, code, exit code)
type PodCase = (&'static str, Value, &'static str, State, &'static str, Option<i32>);

#[test]
fn pod_failures_flow_up_to_the_workload() {
    let cases: Vec<PodCase> = vec![
        ("pull error past grace", waiting("ErrImagePull", "rpc error: not found"), "Always", State::Failed, "ErrImagePull", None),
        ("invalid image name counts at once", waiting("InvalidImageName", "couldn't parse image reference"), "Always", State::Failed, "InvalidImageName", None),
        ("never-pull image missing counts at once", waiting("ErrImageNeverPull", "image not present"), "Always", State::Failed, "ErrImageNeverPull", None),
        (
            "config error past grace",
            waiting("CreateContainerConfigError", "secret \"db\" not found"),
            "Always",
            State::Failed,
            "CreateContainerConfigError",
            None,
        ),
        ("create error past grace", waiting("CreateContainerError", "conflict"), "Always", State::Failed, "CreateContainerError", None),
        ("run error past grace", waiting("RunContainerError", "exec: not found"), "Always", State::Failed, "RunContainerError", None),
        (
            "one crash and back-off is tolerated",
            json!({"ready": false, "restartCount": 1, "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
                   "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}}}),
            "Always",
            State::Progressing,
            "CrashLoopBackOff",
            Some(2),
        ),
        (
            "crash loop beyond the allowed restarts",
            json!({"ready": false, "restartCount": 4, "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                   "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}}}),
            "Always",
            State::Failed,
            "CrashLoopBackOff",
            Some(2),
        ),
        (
            "a crash loop of OOM kills is named for the OOM kill",
            json!({"ready": false, "restartCount": 3, "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s"}},
                   "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
            "Always",
            State::Failed,
            "OOMKilled",
            Some(137),
        ),
        (
            "terminated non-zero, never restarted",
            json!({"ready": false, "state": {"running": null, "terminated": {"exitCode": 3, "reason": "Error", "message": "boom"}}}),
            "Never",
            State::Failed,
            "NonZeroExit",
            Some(3),
        ),
        (
            "out of memory, restarted twice",
            json!({"restartCount": 2, "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
            "Always",
            State::Failed,
            "OOMKilled",
            Some(137),
        ),
        (
            "exited non-zero once, running again",
            json!({"restartCount": 1, "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}),
            "Always",
            State::Progressing,
            "NonZeroExit",
            Some(1),
        ),
        (
            "restarts with clean exits",
            json!({"restartCount": 3, "lastState": {"terminated": {"exitCode": 0, "reason": "Completed"}}}),
            "Always",
            State::Failed,
            "Restarts",
            None,
        ),
    ];
    for (case, container, restart_policy, state, code, exit_code) in cases {
        let mut pod = new_pod("web-2222-a", LONG_AGO, container);
        pod["spec"]["restartPolicy"] = json!(restart_policy);
        let verdict = verdict(&family(deployment(json!({}), rolling_status()), vec![pod]), "deploy/web");
        assert_eq!(verdict.state, state, "{case}: {}", verdict.message);
        assert_eq!(codes(&verdict), [code], "{case}");
        assert_eq!(verdict.reasons[0].exit_code, exit_code, "{case}");
        assert_eq!(verdict.reasons[0].container.as_deref(), Some("app"), "{case}");
        if state == State::Failed {
            assert!(verdict.message.starts_with(&format!("deployment \"web\" failed: pod/web-2222-a (app): {code}: ")), "{case}: {}", verdict.message);
        }
    }
}

#[test]
fn waiting_reasons_within_grace_are_progress() {
    for reason in ["ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"] {
        let objects = family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", JUST_NOW, waiting(reason, "retrying"))]);
        let verdict = verdict(&objects, "deploy/web");
        assert_eq!((verdict.state, codes(&verdict)), (State::Progressing, vec![reason]));
    }
}

#[test]
fn every_kubelet_waiting_reason_is_either_retried_or_hopeless() {
    // Never resolve by waiting: the image reference, pull policy or signature policy must change.
    for reason in ["InvalidImageName", "ErrImageNeverPull", "SignatureValidationFailed"] {
        let objects = family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", JUST_NOW, waiting(reason, "no"))]);
        let verdict = verdict(&objects, "deploy/web");
        assert_eq!((verdict.state, codes(&verdict)), (State::Failed, vec![reason]), "{reason} counts at once");
    }
    // kubelet retries these on its next sync: they count after the waiting grace.
    let retried = [
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
    for reason in retried {
        for (started, state) in [(JUST_NOW, State::Progressing), (LONG_AGO, State::Failed)] {
            let objects = family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", started, waiting(reason, "retrying"))]);
            let verdict = verdict(&objects, "deploy/web");
            assert_eq!((verdict.state, codes(&verdict)), (state, vec![reason]), "{reason} started {started}");
        }
    }
}

/// A pod of `web`'s new ReplicaSet with a sidecar `proxy` (an init container with restartPolicy
/// Always) in `sidecar` state and a completed init container `migrate`, as the API writes them.
fn pod_with_sidecar(sidecar: Value, restart_policy: &str) -> Value {
    let mut pod = new_pod("web-2222-a", LONG_AGO, json!({}));
    pod["spec"]["restartPolicy"] = json!(restart_policy);
    pod["spec"]["initContainers"] = json!([
        {"name": "migrate", "image": "shop/migrate:2"},
        {"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always",
         "readinessProbe": {"tcpSocket": {"port": 15001}, "periodSeconds": 5, "failureThreshold": 3}}
    ]);
    let mut proxy = json!({"name": "proxy", "image": "envoy:1.30", "imageID": "", "ready": true, "restartCount": 0, "started": true,
                           "state": {"running": {"startedAt": LONG_AGO}}});
    merge(&mut proxy, sidecar);
    pod["status"]["initContainerStatuses"] = json!([
        {"name": "migrate", "image": "shop/migrate:2", "imageID": "", "ready": true, "restartCount": 0, "started": false,
         "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": LONG_AGO, "finishedAt": LONG_AGO}}},
        proxy
    ]);
    pod
}

#[test]
fn sidecar_containers_count_like_app_containers() {
    // One pod of the three the status counts: the settle window (which wants all three) is not
    // what this is about, so kubectl's instant verdict.
    let instant = Policy { stable_for: Duration::ZERO, ..Policy::default() };
    let check = |sidecar: Value, restart_policy: &str| {
        verdict_with(&family(deployment(json!({}), done_status()), vec![pod_with_sidecar(sidecar, restart_policy)]), "deploy/web", &instant)
    };
    // A completed regular init container beside a running sidecar is no trouble.
    let healthy = check(json!({}), "Always");
    assert_eq!((healthy.state, healthy.reasons.len()), (State::Ready, 0), "{}", healthy.message);

    let crash_loop = check(
        json!({"ready": false, "started": false, "restartCount": 4,
        "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=proxy"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}),
        "Always",
    );
    assert_eq!((crash_loop.state, codes(&crash_loop)), (State::Failed, vec!["CrashLoopBackOff"]));
    assert_eq!(crash_loop.reasons[0].container.as_deref(), Some("proxy"));

    let image = check(
        json!({"ready": false, "started": false,
        "state": {"running": null, "waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"envoy:1.30\""}}}),
        "Always",
    );
    assert_eq!((image.state, codes(&image)), (State::Failed, vec!["ImagePullBackOff"]));

    let not_ready = check(json!({"ready": false}), "Always");
    assert_eq!((not_ready.state, codes(&not_ready)), (State::Failed, vec!["ReadinessProbeFailing"]));
    assert_eq!(not_ready.reasons[0].container.as_deref(), Some("proxy"));

    // kubelet restarts a sidecar even in a pod that restarts nothing else: one exit is tolerated.
    let exited = json!({"ready": false, "restartCount": 1, "state": {"running": null, "terminated": {"exitCode": 1, "reason": "Error"}}});
    let sidecar = verdict(&family(deployment(json!({}), rolling_status()), vec![pod_with_sidecar(exited, "Never")]), "deploy/web");
    assert_eq!((sidecar.state, codes(&sidecar)), (State::Progressing, vec!["NonZeroExit"]), "{}", sidecar.message);
    let mut regular = new_pod("web-2222-a", LONG_AGO, json!({"state": {"running": null, "terminated": {"exitCode": 1, "reason": "Error"}}}));
    regular["spec"]["restartPolicy"] = json!("Never");
    let regular = verdict(&family(deployment(json!({}), rolling_status()), vec![regular]), "deploy/web");
    assert_eq!((regular.state, codes(&regular)), (State::Failed, vec!["NonZeroExit"]));
}

#[test]
fn failing_init_container_is_named() {
    let mut pod = new_pod("web-2222-a", LONG_AGO, json!({"ready": false, "state": {"running": null, "waiting": {"reason": "PodInitializing"}}}));
    pod["status"]["phase"] = json!("Pending");
    pod["spec"]["initContainers"] = json!([{"name": "migrate", "image": "shop/migrate:2"}]);
    pod["status"]["initContainerStatuses"] = json!([{"name": "migrate", "image": "shop/migrate:2", "imageID": "", "ready": false, "restartCount": 3,
        "state": {"running": {"startedAt": JUST_NOW}}, "lastState": {"terminated": {"exitCode": 64, "reason": "Error", "message": "relation exists"}}}]);
    let verdict = verdict(&family(deployment(json!({}), rolling_status()), vec![pod]), "deploy/web");
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(codes(&verdict), ["NonZeroExit"]);
    assert_eq!(verdict.reasons[0].container.as_deref(), Some("migrate"));
    assert_eq!(verdict.reasons[0].exit_code, Some(64));
    assert_eq!(verdict.reasons[0].message, "container migrate exited with code 64: relation exists (restarted 3 times)");
}

#[test]
fn unschedulable_pods_fail_after_their_grace_with_the_schedulers_message() {
    let message = "0/3 nodes are available: 3 Insufficient cpu.";
    let unschedulable = |since: &str| {
        let mut pod = new_pod("web-2222-a", since, json!({}));
        pod["spec"].as_object_mut().unwrap().remove("nodeName");
        pod["status"] = json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message, "lastTransitionTime": since}]});
        pod
    };
    let young = verdict(&family(deployment(json!({}), rolling_status()), vec![unschedulable(JUST_NOW)]), "deploy/web");
    assert_eq!((young.state, codes(&young)), (State::Progressing, vec!["Unschedulable"]));
    let old = verdict(&family(deployment(json!({}), rolling_status()), vec![unschedulable(LONG_AGO)]), "deploy/web");
    assert_eq!(old.state, State::Failed);
    assert_eq!(old.message, format!("deployment \"web\" failed: pod/web-2222-a: Unschedulable: {message}"));
    assert_eq!(old.reasons[0].since, Some(LONG_AGO.parse().unwrap()));
    let patient = Policy { unschedulable_grace: Duration::from_secs(3600), ..Policy::default() };
    let objects = family(deployment(json!({}), rolling_status()), vec![unschedulable(LONG_AGO)]);
    assert_eq!(verdict_with(&objects, "deploy/web", &patient).state, State::Progressing);
}

#[test]
fn readiness_probe_failing_beyond_its_window_fails() {
    let not_ready = |started: &str| new_pod("web-2222-a", started, json!({"ready": false, "state": {"running": {"startedAt": started}}}));
    let probe = event(
        "web-2222-a.1",
        ("Pod", "web-2222-a"),
        Some("spec.containers{app}"),
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
    );
    // The probe's window is 3 × 10 s, plus 30 s of grace: one minute.
    let within = verdict(&family(deployment(json!({}), rolling_status()), vec![not_ready("2026-01-01T00:09:30Z"), probe.clone()]), "deploy/web");
    assert_eq!((within.state, within.reasons.len()), (State::Progressing, 0));
    let beyond = verdict(&family(deployment(json!({}), rolling_status()), vec![not_ready(LONG_AGO), probe]), "deploy/web");
    assert_eq!(beyond.state, State::Failed);
    assert_eq!(codes(&beyond), ["ReadinessProbeFailing"]);
    assert_eq!(beyond.reasons[0].message, "Readiness probe failed: HTTP probe failed with statuscode: 503");
}

#[test]
fn liveness_restarts_are_reported_with_the_probes_message() {
    let restarted = new_pod("web-2222-a", LONG_AGO, json!({"restartCount": 2, "lastState": {"terminated": {"exitCode": 137, "reason": "Error"}}}));
    let probe = event(
        "web-2222-a.2",
        ("Pod", "web-2222-a"),
        Some("spec.containers{app}"),
        "Unhealthy",
        "Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": context deadline exceeded",
    );
    let verdict = verdict(&family(deployment(json!({}), rolling_status()), vec![restarted, probe]), "deploy/web");
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(codes(&verdict), ["LivenessProbeFailed"]);
    assert_eq!(verdict.reasons[0].exit_code, Some(137));
    assert_eq!(
        verdict.reasons[0].message,
        "container app restarted 2 times: Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": context deadline exceeded"
    );
    let lenient = Policy { allowed_restarts: 5, ..Policy::default() };
    let objects = family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", LONG_AGO, json!({"restartCount": 2}))]);
    assert_eq!(verdict_with(&objects, "deploy/web", &lenient).state, State::Progressing);
}

#[test]
fn stable_window_holds_ready_back_until_pods_were_ready_long_enough_without_restarts() {
    let policy = Policy { stable_for: Duration::from_secs(60), ..Policy::default() };
    let pods = |ready_since: &str, restarted_at: Option<&str>| -> Vec<Value> {
        (0..3)
            .map(|i| {
                let mut container = json!({});
                if let Some(at) = restarted_at {
                    container = json!({"restartCount": 1, "lastState": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": at}}});
                }
                new_pod(&format!("web-2222-{i}"), ready_since, container)
            })
            .collect()
    };
    let young = verdict_with(&family(deployment(json!({}), done_status()), pods("2026-01-01T00:09:30Z", None)), "deploy/web", &policy);
    assert_eq!(young.state, State::Progressing);
    assert_eq!(young.message, r#"Waiting for deployment "web" to be stable: 0 of 3 pods ready for 1m..."#);
    let stable = verdict_with(&family(deployment(json!({}), done_status()), pods(LONG_AGO, None)), "deploy/web", &policy);
    assert_eq!((stable.state, stable.message.as_str()), (State::Ready, r#"deployment "web" successfully rolled out"#));
    // A restart inside the window resets it, even with the Ready condition unchanged.
    let restarted = verdict_with(&family(deployment(json!({}), done_status()), pods(LONG_AGO, Some(JUST_NOW))), "deploy/web", &policy);
    assert_eq!(restarted.state, State::Progressing);
    // With a zero window (kubectl's instant verdict) pods Ready this very moment are ready.
    let instant = Policy { stable_for: Duration::ZERO, ..Policy::default() };
    let objects = family(deployment(json!({}), done_status()), pods(NOW, None));
    assert_eq!(verdict_with(&objects, "deploy/web", &instant).state, State::Ready);
}

// ---------------------------------------------------------------------------------------------
// StatefulSet

fn stateful_set(strategy: Value, status: Value, min_ready: u32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "uid": "s-db", "generation": 3},
        "spec": {"replicas": 3, "serviceName": "db", "minReadySeconds": min_ready, "updateStrategy": strategy,
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}}},
        "status": status
    })
}

fn db_pod(ordinal: u32, revision: &str, container: Value) -> Value {
    pod(&format!("db-{ordinal}"), ("StatefulSet", "db", "s-db"), json!({"app": "db", "controller-revision-hash": revision}), LONG_AGO, container)
}

#[test]
fn stateful_set_rules() {
    let rolling = json!({"type": "RollingUpdate"});
    let partitioned = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}});
    let status = |ready: u32, updated: u32, current: &str| {
        json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": ready, "currentReplicas": 3 - updated, "updatedReplicas": updated,
               "currentRevision": current, "updateRevision": "db-v2", "availableReplicas": ready})
    };
    let cases = [
        (rolling.clone(), status(3, 3, "db-v2"), State::Ready, "statefulset rolling update complete 0 pods at revision db-v2..."),
        (rolling.clone(), status(3, 1, "db-v1"), State::Progressing, "waiting for statefulset rolling update to complete 1 pods at revision db-v2..."),
        (rolling.clone(), status(2, 1, "db-v1"), State::Progressing, "Waiting for 1 pods to be ready..."),
        (
            partitioned.clone(),
            status(3, 1, "db-v1"),
            State::Progressing,
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
        ),
        (partitioned, status(3, 2, "db-v1"), State::Ready, "partitioned roll out complete: 2 new pods have been updated..."),
        (
            rolling,
            json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3}),
            State::Progressing,
            "Waiting for statefulset spec update to be observed...",
        ),
    ];
    for (strategy, status, state, message) in cases {
        let verdict = verdict(&[stateful_set(strategy.clone(), status.clone(), 0)], "sts/db");
        assert_eq!((verdict.state, verdict.message.as_str()), (state, message), "{strategy} {status}");
    }
}

#[test]
fn stateful_set_min_ready_seconds_waits_for_available_pods() {
    let status = json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "currentReplicas": 3,
                        "currentRevision": "db-v2", "updateRevision": "db-v2", "availableReplicas": 1});
    let verdict = verdict(&[stateful_set(json!({"type": "RollingUpdate"}), status, 30)], "sts/db");
    assert_eq!((verdict.state, verdict.message.as_str()), (State::Progressing, "Waiting for 2 pods to be available (ready for 30s)..."));
}

#[test]
fn stateful_set_trouble_counts_only_on_the_update_revision() {
    let status = json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 2, "updatedReplicas": 1, "currentReplicas": 2,
                        "currentRevision": "db-v1", "updateRevision": "db-v2"});
    let crash = json!({"ready": false, "restartCount": 5, "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
                       "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}});
    let on_old = verdict(&[stateful_set(json!({"type": "RollingUpdate"}), status.clone(), 0), db_pod(0, "db-v1", crash.clone())], "sts/db");
    assert_eq!(on_old.state, State::Progressing);
    let on_new = verdict(&[stateful_set(json!({"type": "RollingUpdate"}), status, 0), db_pod(2, "db-v2", crash)], "sts/db");
    assert_eq!(on_new.state, State::Failed);
    assert_eq!(on_new.message, r#"statefulset "db" failed: pod/db-2 (app): CrashLoopBackOff: back-off 2m40s"#);
}

#[test]
fn on_delete_reports_which_pods_run_an_old_revision() {
    let on_delete = json!({"type": "OnDelete"});
    let status = json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 1, "currentReplicas": 2,
                        "currentRevision": "db-v1", "updateRevision": "db-v2"});
    let objects = [stateful_set(on_delete.clone(), status, 0), db_pod(0, "db-v1", json!({})), db_pod(1, "db-v1", json!({})), db_pod(2, "db-v2", json!({}))];
    let verdict_stale = verdict(&objects, "sts/db");
    assert_eq!(verdict_stale.state, State::Paused);
    assert_eq!(verdict_stale.message, r#"statefulset "db" uses the OnDelete update strategy: 2 of 3 pods still run an old revision (delete them to update)"#);
    assert_eq!(codes(&verdict_stale), ["OldRevision", "OldRevision"]);
    let stale_pods: Vec<String> = verdict_stale.reasons.iter().map(|r| r.object.to_string()).collect();
    assert_eq!(stale_pods, ["pod/db-0", "pod/db-1"]);
    // Without the pods, the status counts tell the same.
    let status_only = verdict(&objects[..1], "sts/db");
    assert_eq!(status_only.state, State::Paused);
    let status = json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "currentReplicas": 3,
                        "currentRevision": "db-v2", "updateRevision": "db-v2"});
    let objects = [stateful_set(on_delete, status, 0), db_pod(0, "db-v2", json!({})), db_pod(1, "db-v2", json!({})), db_pod(2, "db-v2", json!({}))];
    let done = verdict(&objects, "sts/db");
    assert_eq!((done.state, done.message.as_str()), (State::Ready, r#"statefulset "db": all 3 pods run the current revision"#));
}

#[test]
fn stateful_set_ordinals_start_and_max_unavailable_under_a_partition() {
    let status = |ready: u32, updated: u32| {
        json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": ready, "currentReplicas": 3 - updated, "updatedReplicas": updated,
               "currentRevision": "db-v1", "updateRevision": "db-v2", "availableReplicas": ready})
    };
    // Pods db-5, db-6 and db-7: partition 6 updates db-6 and db-7 (kubectl would count 3 - 6).
    let numbered = |status: Value| {
        let mut sts = stateful_set(json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 6, "maxUnavailable": 2}}), status, 0);
        sts["spec"]["ordinals"] = json!({"start": 5});
        sts
    };
    let one = verdict(&[numbered(status(3, 1))], "sts/db");
    assert_eq!((one.state, one.message.as_str()), (State::Progressing, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."));
    let both = verdict(&[numbered(status(3, 2))], "sts/db");
    assert_eq!((both.state, both.message.as_str()), (State::Ready, "partitioned roll out complete: 2 new pods have been updated..."));
    // maxUnavailable 2 takes two pods down at once: they are waited for like one.
    let two_down = verdict(&[numbered(status(1, 2))], "sts/db");
    assert_eq!((two_down.state, two_down.message.as_str()), (State::Progressing, "Waiting for 2 pods to be ready..."));
    let unpartitioned = stateful_set(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%"}}), status(1, 2), 0);
    assert_eq!(verdict(&[unpartitioned], "sts/db").message, "Waiting for 2 pods to be ready...");
}

// ---------------------------------------------------------------------------------------------
// DaemonSet

fn daemon_set(strategy: &str, status: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "shop", "uid": "ds-agent", "generation": 2},
        "spec": {"updateStrategy": {"type": strategy}, "selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}},
        "status": status
    })
}

fn revision(name: &str, hash: &str, number: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "revision": number,
           "metadata": {"name": name, "namespace": "shop", "uid": format!("cr-{hash}"), "labels": {"app": "agent", "controller-revision-hash": hash},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "ds-agent", "controller": true}]}})
}

fn agent_pod(node: u32, hash: &str, container: Value) -> Value {
    pod(&format!("agent-{node}"), ("DaemonSet", "agent", "ds-agent"), json!({"app": "agent", "controller-revision-hash": hash}), LONG_AGO, container)
}

#[test]
fn daemon_set_rules() {
    let status = |updated: u32, available: u32| {
        json!({"observedGeneration": 2, "desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": available,
               "updatedNumberScheduled": updated, "numberAvailable": available, "numberMisscheduled": 0})
    };
    let cases = [
        (status(1, 3), State::Progressing, r#"Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated..."#),
        (status(3, 2), State::Progressing, r#"Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available..."#),
        (status(3, 3), State::Ready, r#"daemon set "agent" successfully rolled out"#),
    ];
    for (status, state, message) in cases {
        let verdict = verdict(&[daemon_set("RollingUpdate", status)], "ds/agent");
        assert_eq!((verdict.state, verdict.message.as_str()), (state, message));
    }
    // Trouble on a pod of the newest revision fails it; on an old one it does not count.
    let pull = waiting("ErrImagePull", "manifest unknown");
    let objects = [
        daemon_set("RollingUpdate", status(1, 2)),
        revision("agent-aaa", "aaa", 1),
        revision("agent-bbb", "bbb", 2),
        agent_pod(0, "aaa", pull.clone()),
        agent_pod(1, "bbb", pull),
    ];
    let verdict = verdict(&objects, "ds/agent");
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(verdict.reasons.iter().map(|r| r.object.to_string()).collect::<Vec<_>>(), ["pod/agent-1"]);
}

#[test]
fn daemon_set_on_delete_names_the_old_pods() {
    let status = json!({"observedGeneration": 2, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2,
                        "updatedNumberScheduled": 1, "numberAvailable": 2});
    let objects = [
        daemon_set("OnDelete", status),
        revision("agent-aaa", "aaa", 1),
        revision("agent-bbb", "bbb", 2),
        agent_pod(0, "aaa", json!({})),
        agent_pod(1, "bbb", json!({})),
    ];
    let verdict = verdict(&objects, "ds/agent");
    assert_eq!(verdict.state, State::Paused);
    assert_eq!(verdict.reasons[0].object.to_string(), "pod/agent-0");
    assert_eq!(verdict.reasons[0].message, "runs revision aaa, not the current bbb");
}

/// A FailedCreate warning about `about`, first seen at `first_seen`, as the controllers write it.
fn failed_create(about: (&str, &str), first_seen: &str, message: &str) -> Value {
    let mut event = event("failed-create", about, None, "FailedCreate", message);
    event["firstTimestamp"] = json!(first_seen);
    event["count"] = json!(7);
    event
}

#[test]
fn controllers_that_cannot_create_pods_fail_after_the_waiting_grace() {
    let forbidden = "Error creating: pods \"agent-x\" is forbidden: error looking up service account shop/agent: serviceaccount \"agent\" not found";
    let short = json!({"observedGeneration": 2, "desiredNumberScheduled": 3, "currentNumberScheduled": 0, "numberReady": 0,
                       "updatedNumberScheduled": 0, "numberAvailable": 0});
    let young = verdict(&[daemon_set("RollingUpdate", short.clone()), failed_create(("DaemonSet", "agent"), JUST_NOW, forbidden)], "ds/agent");
    assert_eq!((young.state, codes(&young)), (State::Progressing, vec!["FailedCreate"]));
    let old = verdict(&[daemon_set("RollingUpdate", short), failed_create(("DaemonSet", "agent"), LONG_AGO, forbidden)], "ds/agent");
    assert_eq!(old.state, State::Failed);
    assert_eq!(old.message, format!("daemon set \"agent\" cannot create pods: {forbidden}"));
    assert_eq!(old.reasons[0].since, Some(LONG_AGO.parse().unwrap()));
    // The v1.20 controller writes no status at all while creating pods fails.
    let unwritten = verdict(&[daemon_set("RollingUpdate", json!({})), failed_create(("DaemonSet", "agent"), LONG_AGO, forbidden)], "ds/agent");
    assert_eq!((unwritten.state, codes(&unwritten)), (State::Failed, vec!["FailedCreate"]));

    let quota =
        "create Pod db-2 in StatefulSet db failed error: pods \"db-2\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2";
    let two_of_three = json!({"observedGeneration": 3, "replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2,
                              "currentRevision": "db-v2", "updateRevision": "db-v2"});
    let sts = verdict(&[stateful_set(json!({"type": "RollingUpdate"}), two_of_three, 0), failed_create(("StatefulSet", "db"), LONG_AGO, quota)], "sts/db");
    assert_eq!((sts.state, sts.message.clone()), (State::Failed, format!("statefulset \"db\" cannot create pods: {quota}")));
    // Once every pod exists, an old FailedCreate tells nothing.
    let all = json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 3,
                     "currentRevision": "db-v2", "updateRevision": "db-v2"});
    let recovered = verdict(&[stateful_set(json!({"type": "RollingUpdate"}), all, 0), failed_create(("StatefulSet", "db"), LONG_AGO, quota)], "sts/db");
    assert_eq!(recovered.state, State::Ready);
}

// ---------------------------------------------------------------------------------------------
// ReplicaSet and Pod on their own

#[test]
fn replica_set_on_its_own() {
    let mut rs = replica_set("cache", "c1", 1, "redis:7", 2);
    rs["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    rs["status"] = json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 1, "availableReplicas": 1});
    let verdict_waiting = verdict(&[rs.clone()], "rs/cache");
    assert_eq!(verdict_waiting.message, r#"Waiting for replica set "cache" rollout to finish: 1 of 2 replicas are ready..."#);
    rs["status"] = json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2});
    assert_eq!(verdict(&[rs], "rs/cache").state, State::Ready);
}

#[test]
fn replica_failure_of_a_replica_set_counts_after_the_waiting_grace() {
    let quota = "pods \"cache-x\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1";
    let replica_set_failing = |since: &str| {
        let mut rs = replica_set("cache", "c1", 1, "redis:7", 2);
        rs["metadata"].as_object_mut().unwrap().remove("ownerReferences");
        rs["status"] = json!({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
            "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": quota, "lastTransitionTime": since}]});
        rs
    };
    let young = verdict(&[replica_set_failing(JUST_NOW)], "rs/cache");
    assert_eq!((young.state, codes(&young)), (State::Progressing, vec!["FailedCreate"]));
    let old = verdict(&[replica_set_failing(LONG_AGO)], "rs/cache");
    assert_eq!((old.state, old.message.clone()), (State::Failed, format!("replica set \"cache\" cannot create pods: {quota}")));
    let patient = Policy { waiting_grace: Duration::from_secs(3600), ..Policy::default() };
    assert_eq!(verdict_with(&[replica_set_failing(LONG_AGO)], "rs/cache", &patient).state, State::Progressing);
}

#[test]
fn pod_on_its_own() {
    let bare = |container: Value, phase: &str| {
        let mut pod = pod("tool", ("ReplicaSet", "x", "x"), json!({}), LONG_AGO, container);
        pod["metadata"].as_object_mut().unwrap().remove("ownerReferences");
        pod["status"]["phase"] = json!(phase);
        pod
    };
    let ready = verdict(&[bare(json!({}), "Running")], "pod/tool");
    assert_eq!((ready.state, ready.message.as_str()), (State::Ready, r#"pod "tool" is running and ready"#));
    assert_eq!(ready.progress, Some(Progress { desired: 1, updated: 1, ready: 1, available: 1, old_pending_termination: 0 }));
    let done = verdict(&[bare(json!({"ready": false, "state": {"running": null, "terminated": {"exitCode": 0}}}), "Succeeded")], "pod/tool");
    assert_eq!((done.state, done.message.as_str()), (State::Ready, r#"pod "tool" completed"#));
    let mut failed = bare(json!({"ready": false, "state": {"running": null, "terminated": {"exitCode": 1, "reason": "Error"}}}), "Failed");
    failed["spec"]["restartPolicy"] = json!("Never");
    let failed = verdict(&[failed], "pod/tool");
    assert_eq!(failed.state, State::Failed);
    assert_eq!(codes(&failed), ["NonZeroExit", "PodFailed"]);
    assert_eq!(failed.reasons[0].exit_code, Some(1));
}

/// A pod `tool` without a controller, with `conditions` added to its status.
fn bare_pod(conditions: Value) -> Value {
    let mut pod = pod("tool", ("ReplicaSet", "x", "x"), json!({}), LONG_AGO, json!({}));
    pod["metadata"].as_object_mut().unwrap().remove("ownerReferences");
    pod["status"]["conditions"].as_array_mut().unwrap().extend(conditions.as_array().unwrap().iter().cloned());
    pod
}

#[test]
fn pod_conditions_of_current_kubernetes() {
    let condition = |type_: &str, reason: &str, message: &str, since: &str| json!([{"type": type_, "status": "True", "reason": reason, "message": message, "lastTransitionTime": since, "observedGeneration": 2}]);
    let cases = [
        (
            condition("PodResizePending", "Infeasible", "Node didn't have enough capacity: cpu, requested: 8000, capacity: 4000", JUST_NOW),
            State::Failed,
            "PodResizeInfeasible",
        ),
        (
            condition("PodResizePending", "Deferred", "Node didn't have enough resource: cpu, requested: 3000, used: 2000, capacity: 4000", LONG_AGO),
            State::Progressing,
            "PodResizeDeferred",
        ),
        (condition("PodResizeInProgress", "Error", "could not update cgroup", JUST_NOW), State::Progressing, "PodResizeError"),
        (condition("PodResizeInProgress", "Error", "could not update cgroup", LONG_AGO), State::Failed, "PodResizeError"),
        (condition("DisruptionTarget", "EvictionByEvictionAPI", "Eviction API: evicting", JUST_NOW), State::Failed, "DisruptionTarget"),
    ];
    for (conditions, state, code) in cases {
        let verdict = verdict(&[bare_pod(conditions.clone())], "pod/tool");
        assert_eq!((verdict.state, codes(&verdict)), (state, vec![code]), "{conditions}");
        assert_eq!(
            verdict.reasons[0].message,
            conditions[0]["message"].as_str().unwrap().to_string()
                + &if code == "DisruptionTarget" { " (EvictionByEvictionAPI)".to_string() } else { String::new() }
        );
    }
    // Before 1.33 the same was status.resize.
    let mut legacy = bare_pod(json!([]));
    legacy["status"]["resize"] = json!("Infeasible");
    assert_eq!(codes(&verdict(&[legacy], "pod/tool")), ["PodResizeInfeasible"]);
    // A pod its ReplicaSet will replace is not a failure when about to be evicted.
    let mut evicted = new_pod("web-2222-a", LONG_AGO, json!({}));
    evicted["status"]["conditions"]
        .as_array_mut()
        .unwrap()
        .extend(condition("DisruptionTarget", "PreemptionByScheduler", "preempted", JUST_NOW).as_array().unwrap().clone());
    let replaced = verdict(&family(deployment(json!({}), rolling_status()), vec![evicted]), "deploy/web");
    assert_eq!((replaced.state, codes(&replaced)), (State::Progressing, vec!["DisruptionTarget"]));
}

#[test]
fn scheduling_gated_pods_wait_naming_their_gates() {
    let mut gated = new_pod("web-2222-a", LONG_AGO, json!({}));
    gated["spec"].as_object_mut().unwrap().remove("nodeName");
    gated["spec"]["schedulingGates"] = json!([{"name": "example.com/quota"}, {"name": "example.com/topology"}]);
    gated["status"] = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
        "message": "Scheduling is blocked due to non-empty scheduling gates", "lastTransitionTime": LONG_AGO}]});
    let verdict = verdict(&family(deployment(json!({}), rolling_status()), vec![gated]), "deploy/web");
    assert_eq!((verdict.state, codes(&verdict)), (State::Progressing, vec!["SchedulingGated"]), "gates never count, however long");
    assert_eq!(verdict.reasons[0].message, "waiting for scheduling gates to be removed: example.com/quota, example.com/topology");
}

#[test]
fn a_pod_waits_until_kubelet_observed_its_latest_spec() {
    let mut resized = bare_pod(json!([]));
    resized["metadata"]["generation"] = json!(3);
    resized["status"]["observedGeneration"] = json!(2);
    let waiting = verdict(&[resized.clone()], "pod/tool");
    assert_eq!((waiting.state, waiting.message.as_str()), (State::Progressing, r#"Waiting for pod "tool" spec update to be observed..."#));
    resized["status"]["observedGeneration"] = json!(3);
    assert_eq!(verdict(&[resized], "pod/tool").state, State::Ready);
}

// ---------------------------------------------------------------------------------------------
// Job and CronJob

fn job(spec_extra: Value, status: Value) -> Value {
    let mut spec = json!({"backoffLimit": 2, "completions": 1,
                          "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "shop/migrate:2"}]}}});
    merge(&mut spec, spec_extra);
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop", "uid": "j-migrate"},
           "spec": spec, "status": status})
}

fn job_pod(name: &str, exit_code: i32) -> Value {
    let mut pod = pod(
        name,
        ("Job", "migrate", "j-migrate"),
        json!({"job-name": "migrate"}),
        LONG_AGO,
        json!({"name": "migrate", "ready": false, "state": {"running": null, "terminated": {"exitCode": exit_code, "reason": "Error", "finishedAt": JUST_NOW}}}),
    );
    pod["spec"]["restartPolicy"] = json!("Never");
    pod["spec"]["containers"][0]["name"] = json!("migrate");
    pod["status"]["phase"] = json!("Failed");
    pod
}

#[test]
fn job_rules() {
    let complete = verdict(
        &[job(
            json!({}),
            json!({"succeeded": 1, "startTime": LONG_AGO,
        "conditions": [{"type": "Complete", "status": "True"}]}),
        )],
        "job/migrate",
    );
    assert_eq!((complete.state, complete.message.as_str()), (State::Ready, r#"job "migrate" completed: 1 of 1 succeeded"#));

    let running = verdict(&[job(json!({}), json!({"active": 1, "failed": 1, "startTime": LONG_AGO})), job_pod("migrate-a", 1)], "job/migrate");
    assert_eq!(running.state, State::Progressing);
    assert_eq!(running.message, r#"Waiting for job "migrate" to complete: 0 of 1 succeeded, 1 active, 1 failed..."#);
    assert_eq!(running.reasons.iter().map(|r| r.exit_code).collect::<Vec<_>>(), [Some(1), None]);

    let failed_status = json!({"failed": 3, "startTime": LONG_AGO, "conditions": [{"type": "Failed", "status": "True",
        "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]});
    let failed = verdict(&[job(json!({}), failed_status), job_pod("migrate-a", 1), job_pod("migrate-b", 42)], "job/migrate");
    assert_eq!(failed.state, State::Failed);
    assert_eq!(codes(&failed)[0], "BackoffLimitExceeded");
    assert!(
        failed.message.starts_with(r#"job "migrate" failed: job/migrate: BackoffLimitExceeded: Job has reached the specified backoff limit; pod/migrate-"#),
        "{}",
        failed.message
    );
    let mut exit_codes: Vec<i32> = failed.reasons.iter().filter_map(|r| r.exit_code).collect();
    exit_codes.sort();
    assert_eq!(exit_codes, [1, 42]);

    // More failures than the backoffLimit, before the controller writes its condition.
    let over = verdict(&[job(json!({}), json!({"failed": 3, "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!((over.state, codes(&over)), (State::Failed, vec!["BackoffLimitExceeded"]));
    assert_eq!(over.reasons[0].message, "3 pods failed, more than the backoffLimit of 2");

    let suspended = verdict(&[job(json!({"suspend": true}), json!({"conditions": [{"type": "Suspended", "status": "True"}]}))], "job/migrate");
    assert_eq!((suspended.state, suspended.message.as_str()), (State::Paused, r#"job "migrate" is suspended: 0 of 1 succeeded"#));
}

#[test]
fn job_pod_that_cannot_start_fails_the_job() {
    let mut pod = job_pod("migrate-a", 0);
    pod["status"] = json!({"phase": "Pending", "startTime": LONG_AGO, "containerStatuses": [{"name": "migrate", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"shop/migrate:2\""}}}]});
    let verdict = verdict(&[job(json!({}), json!({"active": 1, "startTime": LONG_AGO})), pod], "job/migrate");
    assert_eq!(verdict.state, State::Failed);
    assert_eq!(verdict.message, r#"job "migrate" failed: pod/migrate-a (migrate): ImagePullBackOff: Back-off pulling image "shop/migrate:2""#);
}

#[test]
fn job_failure_is_reported_at_failure_target_with_every_reason() {
    // Since 1.31 the controller writes FailureTarget at once and Failed after the pods are gone.
    let reasons = [
        ("BackoffLimitExceeded", "Job has reached the specified backoff limit"),
        ("DeadlineExceeded", "Job was active longer than specified deadline"),
        ("PodFailurePolicy", "Container migrate for pod shop/migrate-a failed with exit code 42 matching FailJob rule at index 0"),
        ("MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes"),
        ("FailedIndexes", "Job has failed indexes"),
    ];
    for (reason, message) in reasons {
        for type_ in ["FailureTarget", "Failed"] {
            let status = json!({"failed": 1, "active": 1, "terminating": 1, "startTime": LONG_AGO,
                "conditions": [{"type": type_, "status": "True", "reason": reason, "message": message, "lastTransitionTime": JUST_NOW}]});
            let verdict = verdict(&[job(json!({}), status)], "job/migrate");
            assert_eq!((verdict.state, codes(&verdict)), (State::Failed, vec![reason]), "{type_} {reason}");
            assert_eq!(verdict.message, format!("job \"migrate\" failed: job/migrate: {reason}: {message}"));
        }
    }
    // Before the controller says so, the limits it will act on.
    let deadline = verdict(&[job(json!({"activeDeadlineSeconds": 60}), json!({"active": 1, "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!((deadline.state, codes(&deadline)), (State::Failed, vec!["DeadlineExceeded"]));
    let in_time = verdict(&[job(json!({"activeDeadlineSeconds": 3600}), json!({"active": 1, "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!(in_time.state, State::Progressing);
}

#[test]
fn job_success_is_reported_at_success_criteria_met_or_by_its_counts() {
    let met = json!({"succeeded": 1, "active": 0, "terminating": 1, "startTime": LONG_AGO,
        "conditions": [{"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}]});
    let verdict_met = verdict(&[job(json!({}), met)], "job/migrate");
    assert_eq!(
        (verdict_met.state, verdict_met.message.as_str()),
        (State::Ready, r#"job "migrate" succeeded: 1 of 1 succeeded (its remaining pods are terminating)"#)
    );
    // A server that wrote the counts but no condition.
    let counted = verdict(&[job(json!({}), json!({"succeeded": 1, "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!((counted.state, counted.message.as_str()), (State::Ready, r#"job "migrate" completed: 1 of 1 succeeded"#));
    // An Indexed Job with a successPolicy: indexes 0 and 2 of 0-4 are enough.
    let spec = json!({"completions": 5, "parallelism": 5, "completionMode": "Indexed",
        "successPolicy": {"rules": [{"succeededIndexes": "0,2", "succeededCount": 2}]}});
    let partial = verdict(&[job(spec.clone(), json!({"succeeded": 2, "active": 3, "completedIndexes": "0,3", "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!(partial.state, State::Progressing);
    let enough = verdict(&[job(spec, json!({"succeeded": 2, "active": 3, "completedIndexes": "0,2", "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!((enough.state, enough.message.as_str()), (State::Ready, r#"job "migrate" succeeded by its successPolicy: 2 of 5 succeeded"#));
}

#[test]
fn job_limits_per_index() {
    let spec = json!({"completions": 6, "parallelism": 6, "completionMode": "Indexed", "backoffLimit": null, "backoffLimitPerIndex": 1, "maxFailedIndexes": 2});
    // The global backoffLimit (default 6) does not apply: 8 failed pods over 2 indexes go on.
    let two = verdict(&[job(spec.clone(), json!({"failed": 8, "active": 4, "failedIndexes": "1,4", "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!((two.state, codes(&two)), (State::Progressing, vec!["FailedIndexes"]));
    assert_eq!(two.reasons[0].message, "indexes 1,4 failed (backoffLimitPerIndex)");
    let three = verdict(&[job(spec, json!({"failed": 9, "active": 3, "failedIndexes": "1,3-4", "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!((three.state, codes(&three)), (State::Failed, vec!["MaxFailedIndexesExceeded"]));
    assert_eq!(three.reasons[0].message, "3 indexes failed, more than the maxFailedIndexes of 2");
    // A hostile range costs nothing.
    let spec = json!({"completions": 6, "completionMode": "Indexed", "backoffLimitPerIndex": 1, "maxFailedIndexes": 2});
    let huge = verdict(&[job(spec, json!({"failedIndexes": "0-9223372036854775807", "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!(codes(&huge), ["MaxFailedIndexesExceeded"]);
    assert_eq!(huge.reasons[0].message, "6 indexes failed, more than the maxFailedIndexes of 2");
}

#[test]
fn job_pod_replacement_policy_shows_the_pods_still_terminating() {
    let status = json!({"active": 0, "failed": 1, "terminating": 1, "startTime": LONG_AGO});
    let verdict = verdict(&[job(json!({"podReplacementPolicy": "Failed"}), status)], "job/migrate");
    assert_eq!(verdict.state, State::Progressing);
    assert_eq!(verdict.message, r#"Waiting for job "migrate" to complete: 0 of 1 succeeded, 0 active, 1 failed, 1 terminating (replaced once terminated)..."#);
}

#[test]
fn a_job_another_controller_manages_is_judged_by_its_conditions_only() {
    let spec = json!({"managedBy": "kueue.x-k8s.io/multikueue"});
    // Failed pods here beyond the backoffLimit are not this cluster's job controller's to count.
    let waiting = verdict(&[job(spec.clone(), json!({"failed": 5, "startTime": LONG_AGO})), job_pod("migrate-a", 1)], "job/migrate");
    assert_eq!((waiting.state, codes(&waiting)), (State::Progressing, vec!["ManagedElsewhere"]));
    assert_eq!(waiting.message, r#"Waiting for job "migrate" to complete: 0 of 1 succeeded (kueue.x-k8s.io/multikueue manages it)..."#);
    let failed = json!({"failed": 3, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]});
    let failed = verdict(&[job(spec.clone(), failed)], "job/migrate");
    assert_eq!(failed.state, State::Failed);
    assert_eq!(
        failed.message,
        r#"job "migrate" failed, as its manager kueue.x-k8s.io/multikueue reports: BackoffLimitExceeded: Job has reached the specified backoff limit"#
    );
    let complete = verdict(&[job(spec, json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}))], "job/migrate");
    assert_eq!(complete.state, State::Ready);
    // The job controller named explicitly is the default.
    let own = verdict(&[job(json!({"managedBy": "kubernetes.io/job-controller"}), json!({"failed": 3, "startTime": LONG_AGO}))], "job/migrate");
    assert_eq!(codes(&own), ["BackoffLimitExceeded"]);
}

#[test]
fn cron_job_has_nothing_to_wait_for_unless_suspended() {
    let cron = |suspend: bool| {
        json!({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "report", "namespace": "shop"},
               "spec": {"schedule": "0 3 * * *", "suspend": suspend, "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}})
    };
    let active = verdict(&[cron(false)], "cj/report");
    assert_eq!((active.state, active.message.as_str()), (State::Ready, r#"cronjob "report" has nothing to wait for (schedule "0 3 * * *")"#));
    assert_eq!(verdict(&[cron(true)], "cj/report").state, State::Paused);
}

// ---------------------------------------------------------------------------------------------
// Service, Ingress, PersistentVolumeClaim, generic resources

#[test]
fn services_ingresses_and_claims() {
    let service = |kind: &str, ingress: Value| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": "shop"},
               "spec": {"type": kind, "ports": [{"port": 80}]}, "status": {"loadBalancer": ingress}})
    };
    let cases = [
        (service("ClusterIP", json!({})), "svc/front", State::Ready, r#"service "front" is ready (ClusterIP)"#),
        (service("LoadBalancer", json!({})), "svc/front", State::Progressing, r#"Waiting for service "front" to get a load balancer address..."#),
        (
            service("LoadBalancer", json!({"ingress": [{"ip": "203.0.113.7"}]})),
            "svc/front",
            State::Ready,
            r#"service "front" has load balancer address 203.0.113.7"#,
        ),
        // An entry without IP or host name (only ports, or ipMode) still says it is provisioned.
        (
            service("LoadBalancer", json!({"ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}]})),
            "svc/front",
            State::Ready,
            r#"service "front" has a load balancer"#,
        ),
        (
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "front", "namespace": "shop"},
                   "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}}}),
            "ing/front",
            State::Ready,
            r#"ingress "front" has load balancer address lb.example.com"#,
        ),
        (
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"}, "status": {"phase": "Bound"}}),
            "pvc/data",
            State::Ready,
            r#"persistentvolumeclaim "data" is Bound"#,
        ),
        (
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"}, "status": {"phase": "Lost"}}),
            "pvc/data",
            State::Failed,
            r#"persistentvolumeclaim "data" is Lost: its volume no longer exists"#,
        ),
    ];
    for (object, target, state, message) in cases {
        let verdict = verdict(&[object], target);
        assert_eq!((verdict.state, verdict.message.as_str()), (state, message), "{target}");
    }
    let pending =
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"}, "status": {"phase": "Pending"}});
    let provisioning = event("data.1", ("PersistentVolumeClaim", "data"), None, "ProvisioningFailed", "storageclass \"fast\" not found");
    let verdict = verdict(&[pending, provisioning], "pvc/data");
    assert_eq!((verdict.state, codes(&verdict)), (State::Progressing, vec!["ProvisioningFailed"]));
    assert_eq!(verdict.reasons[0].message, "storageclass \"fast\" not found");
}

#[test]
fn generic_resources_by_their_conditions() {
    let widget = |generation: i64, status: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop", "generation": generation}, "status": status});
    let cases = [
        (
            widget(2, json!({"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]})),
            State::Ready,
            "widget.example.com/w is ready",
            vec![],
        ),
        (
            widget(3, json!({"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]})),
            State::Progressing,
            "Waiting for widget.example.com/w spec update to be observed...",
            vec![],
        ),
        (
            widget(2, json!({"conditions": [{"type": "Stalled", "status": "True", "reason": "QuotaExceeded", "message": "no capacity left"}]})),
            State::Failed,
            "widget.example.com/w is stalled: no capacity left",
            vec!["QuotaExceeded"],
        ),
        (
            widget(2, json!({"conditions": [{"type": "Reconciling", "status": "True", "reason": "Scaling", "message": "2 of 3 up"}]})),
            State::Progressing,
            "Waiting for widget.example.com/w to reconcile: 2 of 3 up",
            vec!["Scaling"],
        ),
        (
            widget(2, json!({"conditions": [{"type": "Ready", "status": "False", "reason": "Pending", "message": "waiting for DNS"}]})),
            State::Progressing,
            "Waiting for widget.example.com/w to be ready: waiting for DNS",
            vec!["Pending"],
        ),
    ];
    for (object, state, message, expected_codes) in cases {
        let verdict = verdict(&[object], "Widget.example.com/w");
        assert_eq!((verdict.state, verdict.message.as_str(), codes(&verdict)), (state, message, expected_codes));
    }
}

#[test]
fn observed_generation_written_as_a_string_is_read_as_a_number() {
    let widget = |generation: i64, observed: Value| {
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop", "generation": generation},
               "status": {"observedGeneration": observed, "conditions": [{"type": "Ready", "status": "True"}]}})
    };
    assert_eq!(verdict(&[widget(3, json!("2"))], "Widget.example.com/w").state, State::Progressing);
    assert_eq!(verdict(&[widget(3, json!("3"))], "Widget.example.com/w").state, State::Ready);
    let error = Snapshot::new().upsert(widget(3, json!("latest"))).expect_err("not a generation").to_string();
    assert_eq!(error, r#"widget/w: field status.observedGeneration: expected a generation (an integer), found "latest""#);
}

#[test]
fn api_services_by_their_available_condition() {
    let service = |available: Option<(&str, &str)>| {
        let conditions: Vec<Value> = available
            .map(|(status, since)| json!({"type": "Available", "status": status, "reason": if status == "True" { "Passed" } else { "FailedDiscoveryCheck" },
                                         "message": "failing or missing response from https://10.0.0.7:443/apis/metrics.k8s.io/v1beta1", "lastTransitionTime": since}))
            .into_iter()
            .collect();
        json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1beta1.metrics.k8s.io"},
               "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "service": {"name": "metrics-server", "namespace": "kube-system"}},
               "status": {"conditions": conditions}})
    };
    let check = |object: Value| {
        let mut snapshot = Snapshot::new();
        snapshot.upsert(object).unwrap();
        snapshot.verdict(&"apiservice/v1beta1.metrics.k8s.io".parse::<ObjectRef>().unwrap(), &Policy::default(), now())
    };
    assert_eq!(check(service(Some(("True", LONG_AGO)))).state, State::Ready);
    let starting = check(service(Some(("False", JUST_NOW))));
    assert_eq!((starting.state, codes(&starting)), (State::Progressing, vec!["FailedDiscoveryCheck"]));
    let failing = check(service(Some(("False", LONG_AGO))));
    assert_eq!((failing.state, codes(&failing)), (State::Failed, vec!["FailedDiscoveryCheck"]));
    assert_eq!(check(service(None)).state, State::Progressing);
}

#[test]
fn horizontal_pod_autoscalers_by_what_their_controller_says() {
    let no_metrics = "the HPA was unable to compute the replica count: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)";
    let conditions = |active: &str, reason: &str, since: &str| {
        json!([{"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale", "message": "the HPA controller was able to get the target's current scale", "lastTransitionTime": LONG_AGO},
               {"type": "ScalingActive", "status": active, "reason": reason, "message": no_metrics, "lastTransitionTime": since}])
    };
    let v2 = |conditions: Value| {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 5},
               "status": {"currentReplicas": 2, "desiredReplicas": 2, "conditions": conditions}})
    };
    let failing = verdict(&[v2(conditions("False", "FailedGetResourceMetric", LONG_AGO))], "horizontalpodautoscaler/web");
    assert_eq!((failing.state, codes(&failing)), (State::Failed, vec!["FailedGetResourceMetric"]));
    assert_eq!(failing.message, format!("horizontalpodautoscaler \"web\" cannot scale: FailedGetResourceMetric: {no_metrics}"));
    let starting = verdict(&[v2(conditions("False", "FailedGetResourceMetric", JUST_NOW))], "horizontalpodautoscaler/web");
    assert_eq!((starting.state, codes(&starting)), (State::Progressing, vec!["FailedGetResourceMetric"]), "metrics of new pods come late");
    let active = verdict(&[v2(conditions("True", "ValidMetricFound", LONG_AGO))], "horizontalpodautoscaler/web");
    assert_eq!((active.state, active.message.as_str()), (State::Ready, r#"horizontalpodautoscaler "web" is able to scale"#));
    let mut backing_off = conditions("True", "ValidMetricFound", LONG_AGO);
    backing_off[0] = json!({"type": "AbleToScale", "status": "False", "reason": "BackoffBoth", "lastTransitionTime": LONG_AGO});
    assert_eq!(verdict(&[v2(backing_off)], "horizontalpodautoscaler/web").state, State::Ready);
    assert_eq!(verdict(&[v2(json!([]))], "horizontalpodautoscaler/web").state, State::Progressing);
    // autoscaling/v1 keeps the same conditions in an annotation.
    let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop", "annotations": {
            "autoscaling.alpha.kubernetes.io/conditions": conditions("False", "FailedGetResourceMetric", LONG_AGO).to_string()}},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80},
        "status": {"currentReplicas": 2, "desiredReplicas": 2}});
    assert_eq!(codes(&verdict(&[v1], "horizontalpodautoscaler/web")), ["FailedGetResourceMetric"]);
}

#[test]
fn terminating_and_not_found() {
    let mut gone = deployment(json!({}), done_status());
    gone["metadata"]["deletionTimestamp"] = json!(JUST_NOW);
    let terminating = verdict(&[gone], "deploy/web");
    assert_eq!((terminating.state, terminating.message.as_str()), (State::Terminating, "deployment/web is being deleted"));
    let missing = verdict(&[], "deploy/web");
    assert_eq!((missing.state, missing.message.as_str()), (State::NotFound, "deployment/web not found"));
}

#[test]
fn workloads_are_the_objects_without_a_stored_owner() {
    let mut snapshot = Snapshot::new();
    let objects = family(deployment(json!({}), done_status()), vec![new_pod("web-2222-a", LONG_AGO, json!({}))]);
    for object in objects.into_iter().chain([event("e", ("Pod", "web-2222-a"), None, "Pulled", "ok")]) {
        snapshot.upsert(object).unwrap();
    }
    let names: Vec<String> = snapshot.workloads().iter().map(ToString::to_string).collect();
    assert_eq!(names, ["deployment/web"]);
    let affected: Vec<String> =
        snapshot.workloads_affected_by(&ObjectRef::new("Pod", Some("shop".into()), "web-2222-a")).iter().map(ToString::to_string).collect();
    assert_eq!(affected, ["pod/web-2222-a", "replicaset/web-2222", "deployment/web"]);
}

// ---------------------------------------------------------------------------------------------
// Bad input: errors name the source, the document, the object and the field.

#[test]
fn bad_manifests_are_errors_naming_document_and_field() {
    let cases = [
        ("kind: Deployment\nmetadata: {name: web\n", "bad.yaml: document 1: "),
        ("---\nkind: Pod\nmetadata: {name: a}\n---\nmetadata: {name: b}\n", "bad.yaml: document 2, field kind: missing: every object needs a kind"),
        ("kind: 7\n", "bad.yaml: document 1, field kind: expected a non-empty string, found a number"),
        ("- a\n- b\n", "bad.yaml: document 1: expected an object, found a list"),
        (
            r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}"#,
            "bad.yaml: document 1, field items[1].kind: missing: every object needs a kind",
        ),
        (r#"{"kind": "List", "items": {"kind": "Pod"}}"#, "bad.yaml: document 1, field items: expected a list, found an object"),
    ];
    for (text, expected) in cases {
        let error = parse_documents(text, "bad.yaml").expect_err(text).to_string();
        assert!(error.starts_with(expected), "{text:?}: {error}");
    }
}

#[test]
fn bad_objects_are_errors_naming_object_and_field() {
    let cases = [
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "status": {"replicas": "three"}}),
            "deployment/web: field status.replicas: invalid type: string \"three\", expected i32",
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "status": "fine"}),
            "deployment/web: field status: invalid type: string \"fine\"",
        ),
        (
            json!({"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "web"}}),
            "deploymnet/web: field kind: unknown kind \"Deploymnet\" for apiVersion apps/v1 (it serves ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet)",
        ),
        (json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}), "Pod: field metadata.name: missing"),
        (
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "status": {"conditions": "none"}}),
            "widget/w: field status.conditions: invalid type: string \"none\", expected a sequence",
        ),
    ];
    for (object, expected) in cases {
        let error = Snapshot::new().upsert(object.clone()).expect_err(&object.to_string()).to_string();
        assert!(error.starts_with(expected), "{object}: {error}");
    }
}

#[test]
fn manifests_keep_their_origin() {
    let text = "kind: Pod\nmetadata: {name: a}\n---\nkind: List\nitems:\n- {kind: Pod, metadata: {name: b}}\n- {kind: Pod, metadata: {name: c}}\n";
    let origins: Vec<String> = parse_manifests(text, "pods.yaml").unwrap().iter().map(|m| m.origin.to_string()).collect();
    assert_eq!(origins, ["pods.yaml: document 1", "pods.yaml: document 2, items[0]", "pods.yaml: document 2, items[1]"]);
}

#[test]
fn removed_objects_leave_the_verdict() {
    let mut snapshot = Snapshot::new();
    let crashing = json!({"ready": false, "restartCount": 9, "state": {"running": null, "waiting": {"reason": "CrashLoopBackOff"}}});
    for object in family(deployment(json!({}), rolling_status()), vec![new_pod("web-2222-a", LONG_AGO, crashing)]) {
        snapshot.upsert(object).unwrap();
    }
    let web = ObjectRef::new("Deployment", Some("shop".into()), "web");
    assert_eq!(snapshot.verdict(&web, &Policy::default(), now()).state, State::Failed);
    assert!(snapshot.remove_uid("p-web-2222-a"));
    assert!(!snapshot.remove_uid("p-web-2222-a"));
    assert_eq!(snapshot.verdict(&web, &Policy::default(), now()).state, State::Progressing);
    assert_eq!(snapshot.len(), 3);
    assert!(snapshot.remove(&web));
    assert!(!snapshot.contains(&web));
    // The ReplicaSets lost their stored owner: each is a workload of its own now.
    assert_eq!(snapshot.workloads().len(), 2);
}

/// A CustomResourceDefinition with the conditions the API server's naming and establishing
/// controllers write (v1.20 to v1.33): NamesAccepted, then Established.
fn crd(conditions: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com", "generation": 1, "uid": "c1"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]},
        "status": {"conditions": conditions, "acceptedNames": {"kind": "", "plural": ""}, "storedVersions": ["v1"]},
    })
}

#[test]
fn a_crd_is_ready_once_established_and_fails_when_its_names_conflict() {
    let target = "crd/widgets.example.com";
    let names_taken = crd(json!([
        {"type": "NamesAccepted", "status": "False", "lastTransitionTime": "2026-03-02T10:00:00Z", "reason": "PluralConflict", "message": "\"widgets\" is already in use"},
        {"type": "Established", "status": "False", "lastTransitionTime": "2026-03-02T10:00:00Z", "reason": "NotAccepted", "message": "not all names are accepted"},
    ]));
    let failed = verdict(&[names_taken], target);
    assert_eq!((failed.state, codes(&failed)), (State::Failed, vec!["PluralConflict"]));
    assert_eq!(failed.message, "customresourcedefinition/widgets.example.com names were not accepted: \"widgets\" is already in use");

    let installing = crd(json!([
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": "2026-03-02T10:00:00Z", "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "False", "lastTransitionTime": "2026-03-02T10:00:00Z", "reason": "Installing", "message": "the initial names have been accepted"},
    ]));
    let waiting = verdict(&[installing], target);
    assert_eq!((waiting.state, codes(&waiting)), (State::Progressing, vec!["Installing"]));

    let established = crd(json!([
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": "2026-03-02T10:00:00Z", "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True", "lastTransitionTime": "2026-03-02T10:00:01Z", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
    ]));
    assert_eq!(verdict(&[established], target).state, State::Ready);

    // Just created: the API server has written no status yet.
    let mut fresh = crd(json!([]));
    fresh.as_object_mut().unwrap().remove("status");
    let fresh = verdict(&[fresh], target);
    assert_eq!((fresh.state, fresh.message.as_str()), (State::Progressing, "Waiting for customresourcedefinition/widgets.example.com to be established..."));
}

#[test]
fn kstatus_stalled_fails_and_reconciling_waits_with_their_own_codes_when_no_reason_is_given() {
    // As controllers following kstatus's conventions write them, with observedGeneration current.
    let database = |conditions: Value| {
        json!({"apiVersion": "db.example.com/v1", "kind": "Database", "metadata": {"name": "orders", "namespace": "shop", "generation": 4},
               "status": {"observedGeneration": 4, "conditions": conditions}})
    };
    let stalled = database(json!([
        {"type": "Reconciling", "status": "False", "lastTransitionTime": "2026-03-02T10:00:00Z", "observedGeneration": 4},
        {"type": "Stalled", "status": "True", "lastTransitionTime": "2026-03-02T10:01:00Z", "observedGeneration": 4, "message": "disk quota exhausted"},
        {"type": "Ready", "status": "False", "lastTransitionTime": "2026-03-02T10:01:00Z"},
    ]));
    let failed = verdict(&[stalled], "database.db.example.com/orders");
    assert_eq!((failed.state, codes(&failed)), (State::Failed, vec!["Stalled"]));
    assert_eq!(failed.message, "database.db.example.com/orders is stalled: disk quota exhausted");
    assert_eq!(failed.reasons[0].since, Some("2026-03-02T10:01:00Z".parse().unwrap()));

    let reconciling = database(json!([
        {"type": "Reconciling", "status": "True", "lastTransitionTime": "2026-03-02T10:00:00Z", "observedGeneration": 4},
        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-03-01T10:00:00Z"},
    ]));
    let waiting = verdict(&[reconciling], "database/orders");
    assert_eq!((waiting.state, codes(&waiting)), (State::Progressing, vec!["Reconciling"]), "Reconciling before Ready");
}

#[test]
fn a_ready_condition_left_from_the_previous_spec_waits_when_the_status_has_no_observed_generation() {
    // As cert-manager and controller-runtime's condition helpers write it: no
    // status.observedGeneration, the generation on each condition. Just after `apply` bumped the
    // generation to 5, Ready=True still describes generation 4.
    let certificate = |observed: Value| {
        json!({"apiVersion": "pki.example.com/v1", "kind": "Certificate", "metadata": {"name": "web", "namespace": "shop", "generation": 5},
               "status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-03-01T10:00:00Z", "observedGeneration": observed}]}})
    };
    let stale = verdict(&[certificate(json!(4))], "certificate/web");
    assert_eq!((stale.state, stale.message.as_str()), (State::Progressing, "Waiting for certificate.pki.example.com/web spec update to be observed..."));
    assert_eq!(verdict(&[certificate(json!(5))], "certificate/web").state, State::Ready);
    assert_eq!(verdict(&[certificate(json!("5"))], "certificate/web").state, State::Ready, "a generation written as a string");
    assert_eq!(verdict(&[certificate(json!("next"))], "certificate/web").state, State::Ready, "not a generation: ignored, not an error");

    // status.observedGeneration, when written, is the controller's word for the whole status.
    let mut current = certificate(json!(4));
    current["status"]["observedGeneration"] = json!(5);
    assert_eq!(verdict(&[current], "certificate/web").state, State::Ready);
}

#[test]
fn a_custom_kind_named_like_a_builtin_one_is_stored_and_judged_apart() {
    let apps = deployment(json!({}), json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}));
    let custom = json!({
        "apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "c1"},
        "status": {"conditions": [{"type": "Stalled", "status": "True", "reason": "NoCapacity", "message": "no region has room"}]},
    });
    let mut snapshot = Snapshot::new();
    snapshot.upsert(apps).unwrap();
    snapshot.upsert(custom).unwrap();
    assert_eq!(snapshot.len(), 2, "one did not replace the other");
    let judge = |target: &str| {
        snapshot.verdict(&target.parse::<ObjectRef>().unwrap().in_namespace("shop"), &Policy { stable_for: Duration::ZERO, ..Policy::default() }, now())
    };
    assert_eq!(judge("deployment/web").state, State::Ready, "apps' Deployment, by its rollout rules");
    let stalled = judge("deployment.example.com/web");
    assert_eq!((stalled.state, codes(&stalled)), (State::Failed, vec!["NoCapacity"]), "example.com's, by its conditions");
    assert_eq!(stalled.message, "deployment.example.com/web is stalled: no region has room");
}
