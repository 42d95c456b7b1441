//! SIGTERM (how CI systems cancel a job) and Ctrl-C stop rollwatch cleanly, with the summary and
//! an exit code that says which signal; during `apply` the writes under way are finished first;
//! a second signal ends it at once.

use std::time::Duration;

use rollwatch_testbed::{ApiProxy, TestNamespace, deployment, kubeconfig, spawn_rollwatch_with};

#[test]
fn sigterm_stops_tracking_with_the_summary_and_exit_code_143() {
    let ns = TestNamespace::new("sigterm");
    // Pulling takes ten minutes: it is still progressing when the signal comes.
    ns.apply(&deployment("late", 1, "nginx:1.19", "ready pull=600s", "", "")).ok();
    let waiting = ns.spawn_rollwatch(&["wait", "deployment/late", "--timeout", "5m"]);
    // Its first verdict line says it is tracking.
    waiting.wait_for_stdout("deployment/late", Duration::from_secs(60));
    waiting.signal("TERM");
    let run = waiting.finish(Duration::from_secs(30));
    assert_eq!(run.code, Some(143), "{}", run.output());
    assert!(run.stdout.contains("interrupted after"), "{}", run.output());
    assert!(run.stdout.contains("deployment/late"), "{}", run.output());
    assert!(run.stdout.contains("(exit code 143)"), "{}", run.output());
}

#[test]
fn ctrl_c_during_apply_finishes_the_writes_then_prints_the_summary() {
    let ns = TestNamespace::new("apply-int");
    const CONFIG_MAPS: usize = 40;
    let mut manifests: Vec<String> =
        (0..CONFIG_MAPS).map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings-{i:02}}}\ndata: {{n: '{i}'}}\n")).collect();
    manifests.push(deployment("late", 1, "nginx:1.19", "ready pull=600s", "", ""));
    let file = tempfile::Builder::new().prefix("rollwatch-apply-int-").suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), manifests.join("---\n")).unwrap();

    let applying = ns.spawn_rollwatch(&["apply", "-f", file.path().to_str().unwrap(), "--timeout", "5m"]);
    // The writes start right after the dry run: interrupt them.
    applying.wait_for_stdout("server dry run passed", Duration::from_secs(60));
    applying.signal("INT");
    let run = applying.finish(Duration::from_secs(60));
    assert_eq!(run.code, Some(130), "{}", run.output());
    assert!(run.stdout.contains("interrupted after"), "{}", run.output());
    // Nothing half-applied: every object was written before it stopped.
    let listed = ns.kubectl(&["get", "configmaps,deployments", "-o", "name"]).ok().stdout;
    let config_maps = listed.lines().filter(|l| l.starts_with("configmap/settings-")).count();
    assert_eq!(config_maps, CONFIG_MAPS, "{listed}");
    assert!(listed.contains("deployment.apps/late"), "{listed}");
}

#[test]
fn a_second_signal_ends_tracking_at_once_without_the_summary() {
    let ns = TestNamespace::new("sigsecond");
    // Its image cannot be pulled, within a long grace: progressing, with the pod and container
    // named, so the summary's explanation asks the API server for the pod.
    ns.apply(&deployment("stuck", 1, "nginx:1.19", "pull-fail", "", "")).ok();
    let proxy = ApiProxy::start(&kubeconfig());
    let args = ["-n", ns.name.as_str(), "wait", "deployment/stuck", "--waiting-grace", "10m", "--timeout", "5m"];
    let waiting = spawn_rollwatch_with(&proxy.kubeconfig(), &args);
    waiting.wait_for_stdout("ImagePull", Duration::from_secs(60));
    // The API server stops answering: the first signal's summary waits for the pod (up to 10 s).
    proxy.hold_all_requests();
    waiting.signal("TERM");
    std::thread::sleep(Duration::from_secs(1));
    waiting.signal("INT");
    let run = waiting.finish(Duration::from_secs(60));
    // The second signal's code (SIGINT: 130), not the first one's summary with 143.
    assert_eq!(run.code, Some(130), "{}", run.output());
    assert!(run.stderr.contains("a second signal: stopping at once, without a summary"), "{}", run.output());
    assert!(!run.stdout.contains("interrupted after"), "the summary was printed: {}", run.output());
}
