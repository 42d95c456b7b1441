//! The test bed itself, proven with the real kubectl: the local control plane
//! and the simulated kubelet make real controllers compute real statuses.

use rollwatch_testbed::{TestNamespace, wait_for};
use serde_json::Value;
use std::time::Duration;

/// A Deployment of `replicas` pods whose container behaves as `behavior`, with an extra spec line.
fn deployment(name: &str, replicas: u32, image: &str, behavior: &str, extra_spec: &str) -> String {
    rollwatch_testbed::deployment(name, replicas, image, behavior, "", extra_spec)
}

fn pods(ns: &TestNamespace, selector: &str) -> Vec<Value> {
    ns.kubectl(&["get", "pods", "-l", selector, "-o", "json"]).ok().json()["items"].as_array().cloned().unwrap_or_default()
}

fn container_status(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]
}

#[test]
fn a_deployment_rolls_out() {
    let ns = TestNamespace::new("deploy");
    ns.apply(&deployment("web", 3, "nginx:1.19", "ready", "")).ok();
    let status = ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"]).ok();
    assert!(status.stdout.contains("successfully rolled out"), "{}", status.stdout);
    let ready: Vec<_> = pods(&ns, "app=web")
        .into_iter()
        .filter(|p| p["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        .collect();
    assert_eq!(ready.len(), 3);
    let pod = &ready[0];
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(pod["status"]["hostIP"], "127.0.0.1");
    assert!(pod["status"]["podIP"].as_str().is_some_and(|ip| !ip.is_empty()));
    assert!(container_status(pod)["state"]["running"]["startedAt"].is_string());
    let reasons: Vec<String> = ns.events().into_iter().map(|(reason, _, _)| reason).collect();
    for expected in ["Scheduled", "Pulling", "Pulled", "Created", "Started"] {
        assert!(reasons.iter().any(|r| r == expected), "no {expected} event among {reasons:?}");
    }
}

#[test]
fn a_bad_image_stalls_the_rolling_update_while_old_pods_keep_serving() {
    let ns = TestNamespace::new("badimage");
    ns.apply(&deployment("web", 3, "nginx:1.19", "ready", "progressDeadlineSeconds: 10")).ok();
    ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"]).ok();
    ns.kubectl(&["set", "image", "deployment/web", "app=nginx:does-not-exist"]).ok();

    let stuck = wait_for("a new pod in ImagePullBackOff", Duration::from_secs(60), || {
        pods(&ns, "app=web")
            .into_iter()
            .find(|p| container_status(p)["image"] == "nginx:does-not-exist" && container_status(p)["state"]["waiting"]["reason"] == "ImagePullBackOff")
    });
    assert_eq!(container_status(&stuck)["ready"], false);

    let deployment = wait_for("ProgressDeadlineExceeded", Duration::from_secs(60), || {
        let d = ns.get("deployment/web");
        let exceeded = d["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Progressing" && c["status"] == "False" && c["reason"] == "ProgressDeadlineExceeded");
        exceeded.then_some(d)
    });
    // 25% of 3 rounds down to 0 unavailable: all three old pods still serve.
    assert_eq!(deployment["status"]["availableReplicas"], 3);
    let old_ready = pods(&ns, "app=web").iter().filter(|p| container_status(p)["image"] == "nginx:1.19" && container_status(p)["ready"] == true).count();
    assert_eq!(old_ready, 3);
    let events = ns.events();
    assert!(events.iter().any(|(r, _, m)| r == "Failed" && m.contains("Failed to pull image \"nginx:does-not-exist\"")), "{events:?}");
    assert!(events.iter().any(|(r, _, m)| r == "BackOff" && m.contains("Back-off pulling image")), "{events:?}");
}

#[test]
fn a_crash_looping_pod_restarts_with_its_exit_code() {
    let ns = TestNamespace::new("crash");
    ns.apply(&deployment("crasher", 1, "busybox:1.36", "crash exit=3 after=1s backoff=1s", "")).ok();
    let pod = wait_for("restartCount >= 2", Duration::from_secs(60), || {
        pods(&ns, "app=crasher").into_iter().find(|p| container_status(p)["restartCount"].as_u64() >= Some(2))
    });
    let status = container_status(&pod);
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 3);
    assert_eq!(status["lastState"]["terminated"]["reason"], "Error");
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    wait_for("CrashLoopBackOff", Duration::from_secs(30), || {
        let p = ns.get(&format!("pod/{name}"));
        (container_status(&p)["state"]["waiting"]["reason"] == "CrashLoopBackOff").then_some(())
    });
    let events = ns.events();
    assert!(events.iter().any(|(r, _, m)| r == "BackOff" && m == "Back-off restarting failed container"), "{events:?}");
}

#[test]
fn a_pod_too_big_for_every_node_is_not_scheduled() {
    let ns = TestNamespace::new("toobig");
    ns.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: app
    image: nginx:1.19
    resources: {requests: {cpu: "1000"}}
"#,
    )
    .ok();
    let message = wait_for("FailedScheduling", Duration::from_secs(30), || {
        ns.events().into_iter().find(|(r, o, _)| r == "FailedScheduling" && o == "huge").map(|(_, _, m)| m)
    });
    assert!(message.contains("Insufficient cpu"), "{message}");
    let pod = ns.get("pod/huge");
    assert_eq!(pod["status"]["phase"], "Pending");
    let scheduled = pod["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "PodScheduled").cloned();
    assert_eq!(scheduled.as_ref().map(|c| c["reason"].clone()), Some(Value::from("Unschedulable")));
}

#[test]
fn a_statefulset_and_a_daemonset_roll_out() {
    let ns = TestNamespace::new("stsds");
    ns.apply(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres:15
        readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - name: agent
        image: fluentd:1
"#,
    )
    .ok();
    let sts = ns.kubectl(&["rollout", "status", "statefulset/db", "--timeout=90s"]).ok();
    assert!(sts.stdout.contains("partitioned roll out complete") || sts.stdout.contains("roll out complete"), "{}", sts.stdout);
    let ds = ns.kubectl(&["rollout", "status", "daemonset/agent", "--timeout=60s"]).ok();
    assert!(ds.stdout.contains("successfully rolled out"), "{}", ds.stdout);
    let nodes = rollwatch_testbed::kubectl_global(&["get", "nodes", "-o", "json"]).ok().json()["items"].as_array().unwrap().len();
    assert_eq!(ns.get("daemonset/agent")["status"]["numberReady"], nodes);
    assert_eq!(ns.get("statefulset/db")["status"]["readyReplicas"], 3);
}

fn job(name: &str, behavior: &str) -> String {
    format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  backoffLimit: 0
  template:
    metadata: {{annotations: {{sim.rollwatch.dev/behavior: "{behavior}"}}}}
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.36
"#
    )
}

fn job_condition(ns: &TestNamespace, name: &str, condition: &str) -> bool {
    ns.get(&format!("job/{name}"))["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == condition && c["status"] == "True")
}

#[test]
fn a_job_completes_and_another_fails() {
    let ns = TestNamespace::new("jobs");
    ns.apply(&job("good", "exit code=0 after=1s")).ok();
    ns.apply(&job("bad", "exit code=2 after=1s")).ok();
    wait_for("job good Complete", Duration::from_secs(60), || job_condition(&ns, "good", "Complete").then_some(()));
    wait_for("job bad Failed", Duration::from_secs(60), || job_condition(&ns, "bad", "Failed").then_some(()));
    let failed_pod = pods(&ns, "job-name=bad").pop().expect("the failed job's pod");
    assert_eq!(failed_pod["status"]["phase"], "Failed");
    assert_eq!(container_status(&failed_pod)["state"]["terminated"]["exitCode"], 2);
    let done_pod = pods(&ns, "job-name=good").pop().expect("the complete job's pod");
    assert_eq!(done_pod["status"]["phase"], "Succeeded");
    assert_eq!(container_status(&done_pod)["state"]["terminated"]["reason"], "Completed");
}

#[test]
fn kubectl_logs_returns_the_simulated_log() {
    let ns = TestNamespace::new("logs");
    ns.apply(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: talker
  annotations: {sim.rollwatch.dev/behavior: 'ready log="hello from the simulated kubelet"'}
spec:
  containers:
  - name: app
    image: nginx:1.19
"#,
    )
    .ok();
    ns.kubectl(&["wait", "--for=condition=Ready", "pod/talker", "--timeout=60s"]).ok();
    let logs = ns.kubectl(&["logs", "talker", "-c", "app"]).ok();
    assert!(logs.stdout.contains("hello from the simulated kubelet"), "{}", logs.stdout);
}

#[test]
fn a_crashing_container_logs_its_error_and_keeps_the_previous_log() {
    let ns = TestNamespace::new("prevlog");
    ns.apply(&deployment("crasher", 1, "busybox:1.36", "crash exit=7 after=1s backoff=1s", "")).ok();
    let pod = wait_for("a restart", Duration::from_secs(60), || {
        pods(&ns, "app=crasher").into_iter().find(|p| container_status(p)["restartCount"].as_u64() >= Some(1))
    });
    let name = pod["metadata"]["name"].as_str().unwrap();
    let previous = ns.kubectl(&["logs", name, "--previous"]).ok();
    assert!(previous.stdout.contains('7'), "the previous instance's log names its exit code: {}", previous.stdout);
}

#[test]
fn deleting_a_pod_completes() {
    let ns = TestNamespace::new("delete");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "")).ok();
    ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"]).ok();
    let pod = pods(&ns, "app=web").pop().unwrap();
    let name = pod["metadata"]["name"].as_str().unwrap();
    ns.kubectl(&["delete", "pod", name, "--timeout=30s"]).ok();
    let gone = ns.kubectl(&["get", "pod", name]);
    assert!(!gone.success && gone.stderr.contains("NotFound"), "{gone:?}");
    let events = ns.events();
    assert!(events.iter().any(|(r, o, m)| r == "Killing" && o == name && m == "Stopping container app"), "{events:?}");
    // The ReplicaSet replaces it and the rollout is whole again.
    ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"]).ok();
}

#[test]
fn a_missing_configmap_key_is_a_container_config_error() {
    let ns = TestNamespace::new("config");
    ns.apply(
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {present: "yes"}
---
apiVersion: v1
kind: Pod
metadata: {name: needs-config}
spec:
  containers:
  - name: app
    image: nginx:1.19
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: settings, key: absent}}
"#,
    )
    .ok();
    let waiting = wait_for("CreateContainerConfigError", Duration::from_secs(30), || {
        let pod = ns.get("pod/needs-config");
        let waiting = container_status(&pod)["state"]["waiting"].clone();
        (waiting["reason"] == "CreateContainerConfigError").then_some(waiting)
    });
    assert_eq!(waiting["message"], format!("couldn't find key absent in ConfigMap {}/settings", ns.name));
    // Adding the key lets the container start, as with a real kubelet.
    ns.kubectl(&["patch", "configmap", "settings", "-p", r#"{"data":{"absent":"now present"}}"#]).ok();
    ns.kubectl(&["wait", "--for=condition=Ready", "pod/needs-config", "--timeout=60s"]).ok();
}

/// A bare pod with one container `app`, its behaviour and extra container fields (YAML, indented 4).
fn pod(name: &str, behavior: &str, container_extra: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations: {{sim.rollwatch.dev/behavior: "{behavior}"}}
spec:
  containers:
  - name: app
    image: nginx:1.19
{container_extra}
"#
    )
}

fn condition(pod: &Value, kind: &str) -> Value {
    pod["status"]["conditions"].as_array().into_iter().flatten().find(|c| c["type"] == kind).cloned().unwrap_or(Value::Null)
}

fn time(value: &Value) -> jiff::Timestamp {
    value.as_str().unwrap_or_else(|| panic!("not a time: {value}")).parse().unwrap()
}

#[test]
fn an_oom_killed_container_reports_exit_137_and_oomkilled() {
    let ns = TestNamespace::new("oom");
    ns.apply(&pod("hog", "oom after=1s backoff=1s", "")).ok();
    let terminated = wait_for("an OOM kill in lastState", Duration::from_secs(60), || {
        let pod = ns.get("pod/hog");
        let last = container_status(&pod)["lastState"]["terminated"].clone();
        last.is_object().then_some(last)
    });
    assert_eq!(terminated["exitCode"], 137);
    assert_eq!(terminated["reason"], "OOMKilled");
}

#[test]
fn a_never_ready_pod_runs_unready_with_unhealthy_events() {
    let ns = TestNamespace::new("neverready");
    ns.apply(&pod("shy", "never-ready", "    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}")).ok();
    let message =
        wait_for("an Unhealthy event", Duration::from_secs(60), || ns.events().into_iter().find(|(r, o, _)| r == "Unhealthy" && o == "shy").map(|(_, _, m)| m));
    assert_eq!(message, "Readiness probe failed: HTTP probe failed with statuscode: 500");
    let pod = ns.get("pod/shy");
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(condition(&pod, "Ready")["status"], "False");
    assert_eq!(container_status(&pod)["ready"], false);
    assert!(container_status(&pod)["state"]["running"].is_object());
}

#[test]
fn a_failing_liveness_probe_restarts_the_container() {
    let ns = TestNamespace::new("liveness");
    ns.apply(&pod("sick", "liveness-fail after=2s", "    livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 2}")).ok();
    wait_for("a restart", Duration::from_secs(60), || (container_status(&ns.get("pod/sick"))["restartCount"].as_u64() >= Some(1)).then_some(()));
    let events = ns.events();
    assert!(
        events.iter().any(|(r, o, m)| r == "Unhealthy" && o == "sick" && m == "Liveness probe failed: HTTP probe failed with statuscode: 500"),
        "{events:?}"
    );
    assert!(events.iter().any(|(r, o, m)| r == "Killing" && o == "sick" && m == "Container app failed liveness probe, will be restarted"), "{events:?}");
}

#[test]
fn readiness_waits_for_the_probes_initial_delay() {
    let ns = TestNamespace::new("initialdelay");
    ns.apply(&pod("slow", "ready", "    readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 5, periodSeconds: 1}")).ok();
    ns.kubectl(&["wait", "--for=condition=Ready", "pod/slow", "--timeout=60s"]).ok();
    let pod = ns.get("pod/slow");
    let started = time(&container_status(&pod)["state"]["running"]["startedAt"]);
    let ready = time(&condition(&pod, "Ready")["lastTransitionTime"]);
    let delay = ready.duration_since(started).as_secs();
    assert!(delay >= 5, "Ready {delay}s after the container started, before initialDelaySeconds");
}

#[test]
fn init_containers_complete_before_the_app_starts() {
    let ns = TestNamespace::new("init");
    ns.apply(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: staged
  annotations: {sim.rollwatch.dev/behavior.migrate: "exit code=0 after=2s"}
spec:
  initContainers:
  - name: migrate
    image: busybox:1.36
  containers:
  - name: app
    image: nginx:1.19
"#,
    )
    .ok();
    ns.kubectl(&["wait", "--for=condition=Ready", "pod/staged", "--timeout=60s"]).ok();
    let pod = ns.get("pod/staged");
    let init = &pod["status"]["initContainerStatuses"][0]["state"]["terminated"];
    assert_eq!(init["reason"], "Completed");
    assert_eq!(init["exitCode"], 0);
    let app_started = time(&container_status(&pod)["state"]["running"]["startedAt"]);
    assert!(time(&init["finishedAt"]) <= app_started, "init finished {} after the app started at {app_started}", init["finishedAt"]);
    assert!(time(&init["finishedAt"]).duration_since(time(&init["startedAt"])).as_secs() >= 2, "the init container ran its 2s");
    assert_eq!(condition(&pod, "Initialized")["status"], "True");
}
