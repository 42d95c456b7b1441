//! Stuck and unschedulable pods judged by evidence: a rollout whose statuses stop changing fails
//! after `--no-progress-timeout`; a pod no node can fit fails at once, and an unschedulable one
//! after a grace that depends on whether a cluster autoscaler may add a node.
//!
//! The simulator's nodes have 4 cpus and 8Gi allocatable each (`rollwatch-sim --cpu/--memory`).
//! Tests that fill the nodes or fake a cluster autoscaler change the whole cluster, so they take
//! turns ([`cluster_wide`]).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rollwatch_testbed::{TestNamespace, kubectl_global, wait_for};

/// A Deployment of one pod whose init container `migrate` runs for an hour: the pod stays
/// Pending / PodInitializing and its status does not change.
const STUCK_IN_INIT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {sim.rollwatch.dev/behavior.migrate: 'exit code=0 after=1h'}
    spec:
      initContainers: [{name: migrate, image: "shop/migrate:1"}]
      containers: [{name: app, image: "shop/web:1"}]
"#;

#[test]
fn a_rollout_whose_pod_never_changes_fails_after_the_no_progress_timeout() {
    let ns = TestNamespace::new("stuck-init");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--no-progress-timeout", "10s", "--timeout", "3m"], STUCK_IN_INIT);
    assert_eq!(run.code, Some(1), "a failed rollout, not a timeout:\n{}", run.output());
    let text = run.output();
    assert!(text.contains("NoProgress"), "{text}");
    assert!(text.contains("no progress for 10s: pod web-") && text.contains("Pending: PodInitializing"), "{text}");
}

/// Serializes the tests that change what the whole cluster has (full nodes, an autoscaler).
fn cluster_wide() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A Deployment `web` of one pod requesting `cpu`, with extra pod spec lines.
fn web(cpu: &str, spec_extra: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      {spec_extra}
      containers: [{{name: app, image: "shop/web:1", resources: {{requests: {{cpu: "{cpu}"}}}}}}]
"#
    )
}

/// A fake cluster autoscaler: its status ConfigMap in kube-system, deleted when dropped.
struct FakeAutoscaler;

impl FakeAutoscaler {
    fn install() -> Self {
        kubectl_global(&["-n", "kube-system", "delete", "configmap", "cluster-autoscaler-status", "--ignore-not-found"]).ok();
        kubectl_global(&[
            "-n",
            "kube-system",
            "create",
            "configmap",
            "cluster-autoscaler-status",
            "--from-literal=status=Cluster-autoscaler status: Health: Healthy",
        ])
        .ok();
        FakeAutoscaler
    }
}

impl Drop for FakeAutoscaler {
    fn drop(&mut self) {
        let _ = kubectl_global(&["-n", "kube-system", "delete", "configmap", "cluster-autoscaler-status", "--ignore-not-found"]);
    }
}

/// `rollwatch apply` of `manifest` with a 10-minute unschedulable grace, timed.
fn apply_timed(ns: &TestNamespace, manifest: &str, grace: &str) -> (rollwatch_testbed::Run, Duration) {
    let started = Instant::now();
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--unschedulable-grace", grace, "--timeout", "3m"], manifest);
    (run, started.elapsed())
}

#[test]
fn a_pod_larger_than_every_node_fails_at_once_naming_the_request_and_the_largest_node() {
    let ns = TestNamespace::new("sched-huge");
    let (run, _) = apply_timed(&ns, &web("16", ""), "10m");
    assert_eq!(run.code, Some(1), "failed long before the 10m grace:\n{}", run.output());
    let text = run.output();
    assert!(text.contains("requests cpu 16, more than any node has (the largest, sim-node-"), "{text}");
    assert!(text.contains("has 4 allocatable)") && text.contains("Insufficient cpu"), "{text}");
}

#[test]
fn a_pod_that_fits_a_node_but_not_now_fails_after_the_short_grace_without_an_autoscaler() {
    let _turn = cluster_wide();
    let ns = TestNamespace::new("sched-full");
    // One 3-cpu pod per node leaves 1 cpu free on each: a 2-cpu pod fits a node, not now.
    let nodes = kubectl_global(&["get", "nodes", "-o", "name"]).ok().stdout.lines().count();
    let filler = web("3", "").replace("name: web", "name: filler").replace("app: web", "app: filler").replace("replicas: 1", &format!("replicas: {nodes}"));
    ns.apply(&filler).ok();
    ns.kubectl(&["rollout", "status", "deployment/filler", "--timeout", "2m"]).ok();

    let (run, took) = apply_timed(&ns, &web("2", ""), "10m");
    assert_eq!(run.code, Some(1), "failed long before the 10m grace:\n{}", run.output());
    let text = run.output();
    assert!(text.contains("Insufficient cpu") && text.contains("(no cluster autoscaler runs to add a node)"), "{text}");
    assert!(took >= Duration::from_secs(15), "not before the 15 s grace: {took:?}");
}

#[test]
fn with_a_cluster_autoscaler_an_unschedulable_pod_waits_the_full_grace() {
    let _turn = cluster_wide();
    let _autoscaler = FakeAutoscaler::install();
    let ns = TestNamespace::new("sched-ca");
    let (run, took) = apply_timed(&ns, &web("100m", "nodeSelector: {disktype: none-has-it}"), "30s");
    assert_eq!(run.code, Some(1), "{}", run.output());
    let text = run.output();
    assert!(text.contains("didn't match Pod's node affinity") && !text.contains("no cluster autoscaler"), "{text}");
    assert!(took >= Duration::from_secs(30), "an autoscaler may add a node: the whole grace is waited: {took:?}");
}

#[test]
fn the_autoscalers_not_trigger_scale_up_event_fails_the_pod_at_once() {
    let _turn = cluster_wide();
    let _autoscaler = FakeAutoscaler::install();
    let ns = TestNamespace::new("sched-nts");
    ns.apply(&web("100m", "nodeSelector: {disktype: none-has-it}")).ok();
    let tracking = ns.spawn_rollwatch(&["wait", "deployment/web", "--unschedulable-grace", "10m", "--timeout", "3m"]);
    let pod = wait_for("an unschedulable pod", Duration::from_secs(60), || {
        let pods = ns.get("pods");
        let pod = pods["items"].as_array()?.first()?.clone();
        let conditions = pod["status"]["conditions"].as_array()?.clone();
        conditions.iter().any(|c| c["type"] == "PodScheduled" && c["reason"] == "Unschedulable").then_some(pod)
    });
    let (name, uid) = (pod["metadata"]["name"].as_str().unwrap(), pod["metadata"]["uid"].as_str().unwrap());
    let message = "pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity/selector, 1 max node group size reached";
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let event = serde_json::json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.nts"), "namespace": ns.name},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": name, "namespace": ns.name, "uid": uid},
        "reason": "NotTriggerScaleUp", "message": message, "type": "Normal", "count": 1,
        "source": {"component": "cluster-autoscaler"}, "firstTimestamp": now, "lastTimestamp": now
    });
    rollwatch_testbed::kubectl_stdin(&["create", "-f", "-"], &event.to_string()).ok();

    let run = tracking.finish(Duration::from_secs(120));
    assert_eq!(run.code, Some(1), "failed at the event, long before the 10m grace:\n{}", run.output());
    let text = run.output();
    assert!(text.contains("NotTriggerScaleUp") && text.contains(message), "{text}");
}

#[test]
fn plan_with_the_cluster_tells_whether_a_first_wave_fits_and_apply_warns_without_stopping() {
    let _turn = cluster_wide();
    let ns = TestNamespace::new("sched-plan");
    // Four 3-cpu pods at once: a 4-cpu node holds one, so at most 3 fit, whatever else runs.
    let wide = web("3", "").replace("replicas: 1", "replicas: 4\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 4, maxUnavailable: 0}}");
    let planned = ns.rollwatch_stdin(&["plan", "-f", "-", "--live"], &wide);
    assert_eq!(planned.code, Some(0), "a plan warns, it does not fail:\n{}", planned.output());
    assert!(planned.stdout.contains("first wave: Deployment/web: only "), "{}", planned.stdout);
    assert!(planned.stdout.contains(" of the first wave's 4 new pods fit the nodes' free allocatable (each requests cpu 3;"), "{}", planned.stdout);
    assert!(planned.stderr.contains("warning: Deployment/web: only "), "{}", planned.stderr);
    let small = ns.rollwatch_stdin(&["plan", "-f", "-", "--live", "-o", "json"], &web("100m", ""));
    assert_eq!(small.code, Some(0), "{}", small.output());
    assert_eq!(small.json_lines()[0]["first_wave_fits"], true, "{}", small.stdout);
    assert!(!small.stderr.contains("warning"), "{}", small.stderr);

    // The same check before an apply: a warning, and the apply goes on.
    let applied = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &wide);
    let stderr = &applied.stderr;
    assert!(stderr.contains("warning: Deployment/web: only ") && stderr.contains("new pods fit the nodes' free allocatable"), "{}", applied.output());
    assert!(applied.stdout.contains("deployment/web created"), "not blocked:\n{}", applied.output());
}
