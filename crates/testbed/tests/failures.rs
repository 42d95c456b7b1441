//! Every kind of failure is detected early — long before the progress deadline — reported with
//! its reason, and explained: the failing pod and container, exit code, events, log lines.
//!
//! Each test allows 3 minutes of tracking; the Deployments keep the default 10-minute progress
//! deadline, so exit code 1 (not 3) within that time means rollwatch found the failure itself.

use rollwatch_testbed::{Run, TestNamespace};
use serde_json::Value;

/// A container that crashes during start-up, before its readiness probe can pass (one that
/// crashes after becoming ready is caught by the settle window: see settle.rs).
const STARTUP_PROBE: &str = "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 5, periodSeconds: 1}";

const TOLERANCES: &[&str] = &["--waiting-grace", "5s", "--unschedulable-grace", "5s", "--readiness-grace", "5s", "--timeout", "3m"];

/// Two replicas whose container behaves as `behavior`, with extra container lines.
fn deployment(name: &str, image: &str, behavior: &str, container_extra: &str) -> String {
    rollwatch_testbed::deployment(name, 2, image, behavior, container_extra, "")
}

/// `rollwatch apply -f -` of `manifest` with the test tolerances, in JSON and in text.
fn apply_fails(ns: &TestNamespace, manifest: &str) -> (Run, Value) {
    let (run, summary) = ns.apply_failing(manifest, TOLERANCES);
    assert_eq!(summary["result"], "failed");
    (run, summary)
}

/// The summary entry of `name`, which must have failed.
fn failed_object<'a>(summary: &'a Value, name: &str) -> &'a Value {
    let object = summary["objects"].as_array().unwrap().iter().find(|o| o["object"]["name"] == name).expect("the object in the summary");
    assert_eq!(object["state"], "Failed", "{object:#}");
    object
}

/// The reason details of the explanation whose code is one of `codes`.
fn details_with<'a>(object: &'a Value, codes: &[&str]) -> Vec<&'a Value> {
    let details: Vec<&Value> =
        object["explanation"]["details"].as_array().into_iter().flatten().filter(|d| codes.iter().any(|code| d["reason"]["code"] == *code)).collect();
    assert!(!details.is_empty(), "no reason with code {codes:?}: {:#}", object["explanation"]);
    details
}

/// The reason names a pod of `workload` and its container `container`.
fn names_pod_and_container(detail: &Value, workload: &str, container: &str) {
    let reason = &detail["reason"];
    assert_eq!(reason["object"]["kind"], "Pod", "{reason:#}");
    assert!(reason["object"]["name"].as_str().unwrap().starts_with(&format!("{workload}-")), "{reason:#}");
    assert_eq!(reason["container"], container, "{reason:#}");
}

#[test]
fn a_bad_image_is_reported_with_the_pull_error() {
    let ns = TestNamespace::new("f-image");
    let (_, summary) = apply_fails(&ns, &deployment("web", "nginx:does-not-exist", "ready", ""));
    let web = failed_object(&summary, "web");
    let details = details_with(web, &["ErrImagePull", "ImagePullBackOff"]);
    names_pod_and_container(details[0], "web", "app");
    assert!(details[0]["reason"]["message"].as_str().unwrap().contains("nginx:does-not-exist"), "{:#}", details[0]);
    let events = web["explanation"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["message"].as_str().unwrap().contains("Failed to pull image")), "{events:#?}");
}

#[test]
fn a_crash_loop_is_reported_with_its_exit_code_and_log_lines() {
    let ns = TestNamespace::new("f-crash");
    let manifest = deployment("crasher", "busybox:1.36", r#"crash exit=3 after=1s backoff=1s log="connecting to the database""#, STARTUP_PROBE);
    let mut args = vec!["apply", "-f", "-"];
    args.extend_from_slice(TOLERANCES);
    let run = ns.rollwatch_stdin(&args, &manifest);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let text = run.output();
    assert!(text.contains("FAILED deployment/crasher"), "{text}");
    assert!(text.contains("CrashLoopBackOff") || text.contains("NonZeroExit"), "{text}");
    assert!(text.contains("pod/crasher-") && text.contains("container app"), "{text}");
    assert!(text.contains("exit code 3"), "{text}");
    // The crashed instance's log, from the previous container.
    assert!(text.contains("(previous instance)") || text.contains("(current instance)"), "{text}");
    assert!(text.contains("| connecting to the database"), "the container's log lines are shown:\n{text}");
    assert!(text.contains("| error: exiting with code 3"), "{text}");
}

#[test]
fn an_oom_kill_is_reported_as_such() {
    let ns = TestNamespace::new("f-oom");
    let (_, summary) = apply_fails(
        &ns,
        &deployment("hungry", "busybox:1.36", "oom after=1s backoff=1s", &format!("resources: {{limits: {{memory: 64Mi}}}}\n        {STARTUP_PROBE}")),
    );
    let hungry = failed_object(&summary, "hungry");
    let details = details_with(hungry, &["OOMKilled", "CrashLoopBackOff"]);
    names_pod_and_container(details[0], "hungry", "app");
    // However the verdict names the crash, the explanation says how the container ended.
    let ended = &details[0]["container"]["last_termination"];
    assert_eq!(ended["reason"], "OOMKilled", "{hungry:#}");
    assert_eq!(ended["exit_code"], 137, "{hungry:#}");
}

#[test]
fn an_unschedulable_pod_is_reported_with_the_schedulers_message() {
    let ns = TestNamespace::new("f-sched");
    let (_, summary) = apply_fails(&ns, &deployment("huge", "nginx:1.19", "ready", "resources: {requests: {cpu: \"1000\"}}"));
    let huge = failed_object(&summary, "huge");
    let details = details_with(huge, &["Unschedulable"]);
    assert!(details[0]["reason"]["object"]["name"].as_str().unwrap().starts_with("huge-"));
    assert!(details[0]["reason"]["message"].as_str().unwrap().contains("Insufficient cpu"), "{:#}", details[0]);
}

#[test]
fn a_readiness_probe_that_never_passes_is_reported() {
    let ns = TestNamespace::new("f-ready");
    let probe = "readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 2}";
    let (_, summary) = apply_fails(&ns, &deployment("sulky", "nginx:1.19", "never-ready", probe));
    let sulky = failed_object(&summary, "sulky");
    let details = details_with(sulky, &["ReadinessProbeFailing"]);
    names_pod_and_container(details[0], "sulky", "app");
}

#[test]
fn a_missing_configmap_key_is_reported_as_a_config_error() {
    let ns = TestNamespace::new("f-config");
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{present: \"yes\"}}\n---{}",
        deployment("needy", "nginx:1.19", "ready", "env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: absent}}}]")
    );
    let (_, summary) = apply_fails(&ns, &manifest);
    let needy = failed_object(&summary, "needy");
    let details = details_with(needy, &["CreateContainerConfigError"]);
    names_pod_and_container(details[0], "needy", "app");
    assert!(details[0]["reason"]["message"].as_str().unwrap().contains("couldn't find key absent"), "{:#}", details[0]);
}

#[test]
fn a_failing_job_is_reported_with_the_exit_code_and_log() {
    let ns = TestNamespace::new("f-job");
    let manifest = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 0
  template:
    metadata: {annotations: {sim.rollwatch.dev/behavior: 'exit code=2 after=1s log="migration 42 failed"'}}
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.36
"#;
    let (_, summary) = apply_fails(&ns, manifest);
    let job = failed_object(&summary, "migrate");
    let details = details_with(job, &["NonZeroExit"]);
    names_pod_and_container(details[0], "migrate", "task");
    assert_eq!(details[0]["reason"]["exit_code"], 2);
    let lines = details[0]["logs"]["lines"].as_array().expect("log lines of the failed container");
    assert!(lines.iter().any(|l| l == "migration 42 failed"), "{lines:?}");
}

#[test]
fn a_quota_that_forbids_the_pods_is_reported_as_replica_failure() {
    let ns = TestNamespace::new("f-quota");
    ns.apply("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods}\nspec: {hard: {pods: \"1\"}}\n").ok();
    rollwatch_testbed::wait_for("the quota's usage to be counted", std::time::Duration::from_secs(60), || {
        ns.get("resourcequota/pods")["status"]["used"]["pods"].is_string().then_some(())
    });
    let (_, summary) = apply_fails(&ns, &deployment("crowd", "nginx:1.19", "ready", ""));
    let crowd = failed_object(&summary, "crowd");
    let details = details_with(crowd, &["FailedCreate"]);
    assert!(details[0]["reason"]["message"].as_str().unwrap().contains("exceeded quota"), "{:#}", details[0]);
    assert!(crowd["message"].as_str().unwrap().contains("cannot create pods"), "{crowd:#}");
}

#[test]
fn a_progress_deadline_exceeded_is_reported() {
    let ns = TestNamespace::new("f-deadline");
    // A pull that takes ten minutes is no error kubelet reports: only the deadline catches it.
    let manifest = deployment("stuck", "nginx:1.19", "ready pull=600s", "").replace("replicas: 2", "replicas: 1\n  progressDeadlineSeconds: 5");
    let (_, summary) = apply_fails(&ns, &manifest);
    let stuck = failed_object(&summary, "stuck");
    details_with(stuck, &["ProgressDeadlineExceeded"]);
}

#[test]
fn a_liveness_restart_is_explained_with_the_killed_instances_log() {
    let ns = TestNamespace::new("f-liveness");
    let probes = format!("livenessProbe: {{exec: {{command: [\"true\"]}}, periodSeconds: 1, failureThreshold: 1}}\n        {STARTUP_PROBE}");
    let manifest = deployment("sick", "busybox:1.36", r#"liveness-fail after=2s backoff=1s log="serving on :8080""#, &probes);
    let mut args = vec!["apply", "-f", "-", "-o", "json", "--allowed-restarts", "0"];
    args.extend_from_slice(TOLERANCES);
    let run = ns.rollwatch_stdin(&args, &manifest);
    assert_eq!(run.code, Some(1), "exit code 1, a failed rollout:\n{}", run.output());
    let summary = run.json_lines().pop().expect("a summary line");
    let sick = failed_object(&summary, "sick");
    let details = details_with(sick, &["LivenessProbeFailed"]);
    names_pod_and_container(details[0], "sick", "app");
    let logs = &details[0]["logs"];
    assert_eq!(logs["previous"], true, "the killed instance's log: {:#}", details[0]);
    let lines: Vec<&str> = logs["lines"].as_array().expect("log lines").iter().filter_map(Value::as_str).collect();
    assert!(lines.contains(&"serving on :8080"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("failed liveness probe")), "{lines:?}");
}
