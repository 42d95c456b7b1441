//! Healthy rollouts end in exit code 0, with every kind rollwatch follows; a slow but healthy
//! rollout is not mistaken for a failure; the stable window catches a pod that restarts after
//! becoming ready; and the output formats carry the same verdicts.

use rollwatch_testbed::{TestNamespace, deployment};

const STATEFULSET_DAEMONSET_JOB: &str = r#"
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
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 0
  template:
    metadata: {annotations: {sim.rollwatch.dev/behavior: "exit code=0 after=2s"}}
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox:1.36
"#;

#[test]
fn apply_of_a_deployment_statefulset_daemonset_and_job_succeeds() {
    let ns = TestNamespace::new("healthy");
    let manifest = format!("{}---{STATEFULSET_DAEMONSET_JOB}", deployment("web", 3, "nginx:1.19", "ready", "", ""));
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "3m"], &manifest);
    assert_eq!(run.code, Some(0), "{}", run.output());
    for object in ["deployment/web", "statefulset/db", "daemonset/agent", "job/migrate"] {
        assert!(run.stdout.contains(&format!("READY {object} ")), "{object} not reported ready:\n{}", run.output());
    }
    assert!(run.stdout.contains("all ready"), "{}", run.output());
    // What rollwatch said is what the cluster says.
    assert_eq!(ns.get("statefulset/db")["status"]["readyReplicas"], 3);
    assert_eq!(ns.get("deployment/web")["status"]["availableReplicas"], 3);
    assert!(ns.get("job/migrate")["status"]["succeeded"].as_i64() == Some(1));

    // Waiting on what is already there, and a one-shot status, agree.
    let wait = ns.rollwatch(&["wait", "deployment/web", "sts/db", "ds/agent", "job/migrate", "--timeout", "2m"]);
    assert_eq!(wait.code, Some(0), "{}", wait.output());
    let status = ns.rollwatch(&["status", "deployment/web", "sts/db", "ds/agent", "job/migrate"]);
    assert_eq!(status.code, Some(0), "{}", status.output());
}

#[test]
fn wait_by_label_and_by_manifest_and_in_poll_mode() {
    let ns = TestNamespace::new("select");
    let manifest = format!("{}---{}", deployment("front", 2, "nginx:1.19", "ready", "", ""), deployment("back", 1, "nginx:1.19", "ready", "", ""));
    ns.apply(&manifest).ok();
    let by_label = ns.rollwatch(&["wait", "-l", "app in (front,back)", "--timeout", "2m", "-o", "json"]);
    assert_eq!(by_label.code, Some(0), "{}", by_label.output());
    let summary = by_label.json_lines().pop().expect("a summary line");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["result"], "ready");
    let mut names: Vec<&str> = summary["objects"].as_array().unwrap().iter().map(|o| o["object"]["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["back", "front"]);

    let by_manifest = ns.rollwatch_stdin(&["wait", "-f", "-", "--poll=1s", "--timeout", "2m"], &manifest);
    assert_eq!(by_manifest.code, Some(0), "{}", by_manifest.output());
    assert!(by_manifest.stdout.contains("READY deployment/front") && by_manifest.stdout.contains("READY deployment/back"), "{}", by_manifest.output());
}

#[test]
fn json_lines_report_each_state_change_and_a_final_summary() {
    let ns = TestNamespace::new("json");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "-o", "json", "--timeout", "2m"], &deployment("web", 2, "nginx:1.19", "ready", "", ""));
    assert_eq!(run.code, Some(0), "{}", run.output());
    let lines = run.json_lines();
    let verdicts: Vec<_> = lines.iter().filter(|l| l["event"] == "verdict").collect();
    assert!(verdicts.iter().any(|v| v["state"] == "Progressing"), "{}", run.stdout);
    let last = verdicts.last().expect("verdict lines");
    assert_eq!(last["state"], "Ready");
    assert_eq!(last["object"]["kind"], "Deployment");
    assert_eq!(last["object"]["namespace"], ns.name.as_str());
    assert!(lines.iter().any(|l| l["event"] == "applied" && l["object"]["name"] == "web"), "{}", run.stdout);
    let summary = lines.last().unwrap();
    assert_eq!((summary["event"].as_str(), summary["exit_code"].as_i64()), (Some("summary"), Some(0)));
}

#[test]
fn a_slow_but_healthy_rollout_is_not_reported_as_failed() {
    let ns = TestNamespace::new("slow");
    let probe = "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 20, periodSeconds: 2}";
    let strategy = "strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}";
    ns.apply(&deployment("web", 10, "nginx:1.19", "ready", probe, strategy)).ok();
    let first = ns.rollwatch(&["wait", "deployment/web", "--timeout", "5m"]);
    assert_eq!(first.code, Some(0), "{}", first.output());
    // The update goes in waves of three pods, each ready only after 20 s: a minute or more in all.
    let update = ns.rollwatch(&["set", "image", "deployment/web", "app=nginx:1.20", "--timeout", "10m"]);
    assert_eq!(update.code, Some(0), "{}", update.output());
    assert!(update.stdout.contains("READY deployment/web"), "{}", update.output());
    assert!(!update.stdout.contains("Failed"), "no verdict along the way was a failure:\n{}", update.output());
    let template_image = ns.get("deployment/web")["spec"]["template"]["spec"]["containers"][0]["image"].clone();
    assert_eq!(template_image, "nginx:1.20");
}

#[test]
fn the_stable_window_catches_a_pod_that_restarts_after_becoming_ready() {
    let ns = TestNamespace::new("stable");
    let probe = "livenessProbe: {exec: {command: [\"true\"]}, periodSeconds: 1, failureThreshold: 1}";
    let manifest = deployment("flaky", 1, "nginx:1.19", "liveness-fail after=8s backoff=1s", probe, "");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--stable-for", "40s", "--timeout", "3m"], &manifest);
    assert_eq!(run.code, Some(1), "a restart inside the stable window is a failure:\n{}", run.output());
    let output = run.output();
    assert!(output.contains("FAILED deployment/flaky"), "{output}");
    assert!(output.contains("pod/flaky-") && output.contains("container app"), "names the pod and container:\n{output}");

    // With a zero window (kubectl's instant verdict) the same Deployment is ready as soon as its
    // pod is; the default 10 s window would catch the restart (see settle.rs).
    let ns = TestNamespace::new("unstable");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--stable-for", "0", "--timeout", "2m"], &manifest);
    assert_eq!(run.code, Some(0), "{}", run.output());
}

#[test]
fn rollback_on_failure_returns_the_deployment_to_its_previous_replicaset() {
    let ns = TestNamespace::new("rollback");
    let manifest = deployment("web", 3, "nginx:1.19", "ready", "", "");
    let first = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &manifest);
    assert_eq!(first.code, Some(0), "{}", first.output());

    let broken =
        ns.rollwatch(&["set", "image", "deployment/web", "app=nginx:does-not-exist", "--rollback-on-failure", "--waiting-grace", "5s", "--timeout", "3m"]);
    assert_eq!(broken.code, Some(1), "the failed rollout is still reported as failed:\n{}", broken.output());
    assert!(broken.stdout.contains("rolled back to revision 1 (images: nginx:1.19)"), "{}", broken.output());
    assert!(broken.stdout.contains("ImagePullBackOff") || broken.stdout.contains("ErrImagePull"), "{}", broken.output());

    assert!(broken.stdout.contains("rollback complete: the previous revision is ready again"), "{}", broken.output());

    let template = ns.get("deployment/web")["spec"]["template"].clone();
    assert_eq!(template["spec"]["containers"][0]["image"], "nginx:1.19");
    // The old ReplicaSet has taken over again: all pods run the old image and are ready.
    let back = ns.rollwatch(&["status", "deployment/web"]);
    assert_eq!(back.code, Some(0), "{}", back.output());
    rollwatch_testbed::wait_for("only old-image pods left", std::time::Duration::from_secs(120), || {
        let pods = ns.kubectl(&["get", "pods", "-l", "app=web", "-o", "json"]).ok().json();
        let images: Vec<String> = pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| p["spec"]["containers"][0]["image"].as_str().unwrap().to_string())
            .collect();
        (images.len() == 3 && images.iter().all(|i| i == "nginx:1.19")).then_some(())
    });
}

#[test]
fn rollback_leaves_a_deployment_alone_that_the_run_did_not_roll_out() {
    let ns = TestNamespace::new("norollback");
    // A new Deployment has no earlier revision to return to; the failure is reported as such.
    let manifest = deployment("fresh", 1, "nginx:does-not-exist", "ready", "", "");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--rollback-on-failure", "--waiting-grace", "5s", "--timeout", "3m"], &manifest);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.stdout.contains("not rolled back: it had no earlier revision to return to"), "{}", run.output());
}

#[test]
fn a_timeout_says_what_is_still_missing() {
    let ns = TestNamespace::new("timeout");
    // Pulling takes ten minutes: nothing is wrong yet, it is just not there.
    ns.apply(&deployment("late", 2, "nginx:1.19", "ready pull=600s", "", "")).ok();
    let run = ns.rollwatch(&["wait", "deployment/late", "--timeout", "10s"]);
    assert_eq!(run.code, Some(3), "{}", run.output());
    assert!(run.stdout.contains("TIMED OUT deployment/late"), "{}", run.output());
    assert!(run.stdout.contains("0 of 2 updated replicas are available"), "{}", run.output());
    // A one-shot status of the same says "not ready yet" with the same exit code.
    let status = ns.rollwatch(&["status", "deployment/late"]);
    assert_eq!(status.code, Some(3), "{}", status.output());
    assert!(status.stdout.contains("NOT READY deployment/late"), "{}", status.output());
}

#[test]
fn ctrl_c_stops_cleanly_with_a_summary() {
    let ns = TestNamespace::new("interrupt");
    ns.apply(&deployment("late", 1, "nginx:1.19", "ready pull=600s", "", "")).ok();
    let mut waiting = ns.spawn_rollwatch(&["wait", "deployment/late", "--timeout", "5m"]);
    // Once it is tracking (a verdict line is out), interrupt it as a terminal's Ctrl-C would.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(!waiting.exited(), "still waiting before the interrupt");
    waiting.signal("INT");
    let run = waiting.finish(std::time::Duration::from_secs(30));
    assert_eq!(run.code, Some(130), "{}", run.output());
    assert!(run.stdout.contains("interrupted after"), "{}", run.output());
    assert!(run.stdout.contains("deployment/late"), "{}", run.output());
}

#[test]
fn wait_for_deleted_ends_when_the_object_is_gone() {
    let ns = TestNamespace::new("deleted");
    ns.apply(&deployment("old", 1, "nginx:1.19", "ready", "", "")).ok();
    let waiting = ns.spawn_rollwatch(&["wait", "deployment/old", "--for", "deleted", "--timeout", "2m"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    ns.kubectl(&["delete", "deployment", "old", "--wait=false"]).ok();
    let run = waiting.finish(std::time::Duration::from_secs(150));
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("NotFound"), "{}", run.output());
}

#[test]
fn a_selector_across_all_namespaces_finds_and_names_each_namespace() {
    let first = TestNamespace::new("alla");
    let second = TestNamespace::new("allb");
    // A label value unique to this test run, so other tests' objects stay out.
    let label = first.name.clone();
    for ns in [&first, &second] {
        ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "").replace("labels: {app: web}}", &format!("labels: {{app: web, run: {label}}}}}"))).ok();
    }
    let run = first.rollwatch(&["wait", "-l", &format!("run={label}"), "-A", "--timeout", "2m"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("READY deployment/web\n") || run.stdout.contains("READY deployment/web ("), "{}", run.output());
    assert!(run.stdout.contains(&format!("(namespace {})", second.name)), "the other namespace is named:\n{}", run.output());
    assert!(run.stdout.contains("2 ready"), "{}", run.output());
}
