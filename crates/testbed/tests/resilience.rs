//! The tracker on a control plane of its own: an API server restart in the middle of a wait does
//! not lose the verdict, an outage longer than a grace period does not change it, and waiting on
//! 200 Deployments uses a handful of watch connections, not one per object.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rollwatch_testbed::PrivateCluster;
use serde_json::Value;

fn deployment(name: &str, replicas: u32, behavior: &str, container_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, labels: {{group: many}}}}\nspec:\n  replicas: {replicas}\n  \
         selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n      \
         annotations: {{sim.rollwatch.dev/behavior: '{behavior}'}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.19\n        \
         {container_extra}\n"
    )
}

#[test]
fn an_api_server_restart_during_a_wait_does_not_lose_the_verdict() {
    let cluster = PrivateCluster::start("trk-restart", 1);
    cluster.kubectl(&["create", "namespace", "shop"]).ok();
    // Ready only 25 s after start, well after the restart; and one whose pods crash at start-up.
    let slow = deployment("slow", 2, "ready", "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 25, periodSeconds: 1}");
    let doomed =
        deployment("doomed", 1, "crash exit=4 after=1s backoff=2s", "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 5, periodSeconds: 1}");
    cluster.kubectl_stdin(&["-n", "shop", "apply", "-f", "-"], &format!("{slow}---\n{doomed}")).ok();
    let waiting_slow = cluster.spawn_rollwatch(&["-n", "shop", "wait", "deployment/slow", "-o", "json", "--timeout", "4m"]);
    let waiting_doomed = cluster.spawn_rollwatch(&["-n", "shop", "wait", "deployment/doomed", "-o", "json", "--timeout", "4m"]);
    std::thread::sleep(Duration::from_secs(3));

    let restart = cluster.cluster(&["restart", "kube-apiserver"]);
    assert!(restart.success, "{}{}", restart.stdout, restart.stderr);

    let slow_run = waiting_slow.finish(Duration::from_secs(300));
    let doomed_run = waiting_doomed.finish(Duration::from_secs(120));
    assert_eq!(slow_run.code, Some(0), "{}", slow_run.output());
    let lines = slow_run.json_lines();
    assert!(lines.iter().any(|l| l["event"] == "trouble"), "the restart was noticed while waiting:\n{}", slow_run.stdout);
    assert_eq!(lines.last().unwrap()["result"], "ready");

    assert_eq!(doomed_run.code, Some(1), "{}", doomed_run.output());
    let summary = doomed_run.json_lines().pop().unwrap();
    let reasons = summary["objects"][0]["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| (r["code"] == "CrashLoopBackOff" || r["code"] == "NonZeroExit") && r["container"] == "app"), "{summary:#}");
}

/// Waits for `deployment/NAME` in `namespace` whose pod waits for ConfigMap `settings`
/// (CreateContainerConfigError, which kubelet retries every 10 s) with a 30 s waiting grace;
/// the ConfigMap is created 3 s in, then `during` runs (the fault, if any).
fn wait_for_late_config(cluster: &PrivateCluster, namespace: &str, during: impl FnOnce()) -> rollwatch_testbed::Run {
    cluster.kubectl(&["create", "namespace", namespace]).ok();
    let manifest = deployment("late-config", 1, "ready", "envFrom: [{configMapRef: {name: settings}}]");
    cluster.kubectl_stdin(&["-n", namespace, "apply", "-f", "-"], &manifest).ok();
    let waiting = cluster.spawn_rollwatch(&["-n", namespace, "wait", "deployment/late-config", "--waiting-grace", "30s", "-o", "json", "--timeout", "4m"]);
    waiting.wait_for_stdout("CreateContainerConfigError", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(3));
    cluster.kubectl(&["-n", namespace, "create", "configmap", "settings", "--from-literal=mode=fast"]).ok();
    during();
    waiting.finish(Duration::from_secs(300))
}

#[test]
fn an_api_server_outage_longer_than_the_grace_period_changes_no_verdict() {
    let cluster = PrivateCluster::start("trk-outage", 1);
    // Without a fault: ready once kubelet finds the ConfigMap.
    let calm = wait_for_late_config(&cluster, "calm", || {});
    assert_eq!(calm.code, Some(0), "{}", calm.output());
    eprintln!("without the outage: {}", calm.stdout.lines().last().unwrap_or_default());

    // The API server stops for 45 s, longer than the 30 s grace: nothing is updated meanwhile, so
    // the grace must not run out on the last picture, and the verdict is the same.
    let stormy = wait_for_late_config(&cluster, "stormy", || {
        let stop = cluster.cluster(&["stop", "kube-apiserver"]);
        assert!(stop.success, "{}{}", stop.stdout, stop.stderr);
        std::thread::sleep(Duration::from_secs(45));
        let start = cluster.cluster(&["start", "kube-apiserver"]);
        assert!(start.success, "{}{}", start.stdout, start.stderr);
    });
    assert_eq!(stormy.code, Some(0), "{}", stormy.output());
    eprintln!("with a 45 s outage: {}", stormy.stdout.lines().last().unwrap_or_default());
    let lines = stormy.json_lines();
    assert!(lines.iter().any(|l| l["event"] == "trouble"), "the outage was noticed:\n{}", stormy.stdout);
    assert!(!lines.iter().any(|l| l["state"] == "Failed"), "failed during the outage:\n{}", stormy.stdout);
    assert_eq!(lines.last().unwrap()["result"], "ready");
}

/// The sum of the API server's open namespace-scoped WATCH requests for `resources`.
fn namespaced_watches(cluster: &PrivateCluster, resources: &[&str]) -> u64 {
    let metrics = cluster.kubectl(&["get", "--raw", "/metrics"]).ok().stdout;
    metrics
        .lines()
        .filter(|line| line.starts_with("apiserver_longrunning_gauge{") && line.contains("verb=\"WATCH\"") && line.contains("scope=\"namespace\""))
        .filter(|line| resources.iter().any(|r| line.contains(&format!("resource=\"{r}\""))))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// WATCH requests made so far, by resource, namespace-scoped.
fn watch_requests(cluster: &PrivateCluster, resources: &[&str]) -> BTreeMap<String, u64> {
    let metrics = cluster.kubectl(&["get", "--raw", "/metrics"]).ok().stdout;
    let mut counts = BTreeMap::new();
    for line in metrics.lines().filter(|l| l.starts_with("apiserver_request_total{") && l.contains("verb=\"WATCH\"") && l.contains("scope=\"namespace\"")) {
        if let Some(resource) = resources.iter().find(|r| line.contains(&format!("resource=\"{r}\""))) {
            let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) as u64;
            *counts.entry(resource.to_string()).or_insert(0) += value;
        }
    }
    counts
}

#[test]
fn two_hundred_deployments_share_a_handful_of_watches() {
    const COUNT: usize = 200;
    let cluster = PrivateCluster::start("trk-watches", 3);
    cluster.kubectl(&["create", "namespace", "fleet"]).ok();
    // Ready 30 s after start at the earliest, so the watches are open long enough to be seen.
    let probe = "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 30, periodSeconds: 2}";
    let manifests: Vec<String> = (0..COUNT).map(|i| deployment(&format!("svc-{i:03}"), 1, "ready", probe)).collect();
    cluster.kubectl_stdin(&["-n", "fleet", "apply", "-f", "-"], &manifests.join("---\n")).ok();

    let resources = ["deployments", "replicasets", "pods", "events"];
    let before_open = namespaced_watches(&cluster, &resources);
    let before_requests: u64 = watch_requests(&cluster, &resources).values().sum();
    let mut waiting = cluster.spawn_rollwatch(&["-n", "fleet", "wait", "-l", "group=many", "-o", "json", "--timeout", "10m"]);
    let mut most_open = 0;
    let deadline = Instant::now() + Duration::from_secs(700);
    while !waiting.exited() && Instant::now() < deadline {
        most_open = most_open.max(namespaced_watches(&cluster, &resources).saturating_sub(before_open));
        std::thread::sleep(Duration::from_millis(500));
    }
    let run = waiting.finish(Duration::ZERO);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let summary: Value = run.json_lines().pop().unwrap();
    let objects = summary["objects"].as_array().unwrap();
    assert_eq!(objects.len(), COUNT);
    assert!(objects.iter().all(|o| o["state"] == "Ready"), "every Deployment ready");

    // One watch per kind in the namespace: Deployments, ReplicaSets, Pods, and Events twice (the
    // Warning ones, kubelet's Killing ones). Every pod here is scheduled, so neither the cluster
    // autoscaler's Events nor the Nodes are watched.
    assert!(most_open >= 1, "the watches were seen open");
    assert!(most_open <= 5, "{most_open} watches open at once for {COUNT} Deployments");
    // The server counts a WATCH request when it ends, so once rollwatch has gone all five are
    // counted; each watch is also renewed every 50 s (the timeout it asks the server for, so a
    // silent connection is noticed), a few more, never one per object.
    let made = rollwatch_testbed::wait_for("the ended watches to be counted", Duration::from_secs(30), || {
        let made = watch_requests(&cluster, &resources).values().sum::<u64>() - before_requests;
        (made >= 5).then_some(made)
    });
    eprintln!("{COUNT} Deployments: at most {most_open} namespaced watches open at once, {made} WATCH requests in all");
    let renewals = 5 * (summary["elapsed_seconds"].as_f64().unwrap_or(0.0) / 50.0).ceil() as u64;
    assert!(made <= 5 + renewals + 4, "{made} WATCH requests for {COUNT} Deployments");

    // Poll mode lists instead: no watch at all.
    let polled = cluster.spawn_rollwatch(&["-n", "fleet", "wait", "-l", "group=many", "--poll=1s", "--timeout", "5m"]).finish(Duration::from_secs(330));
    assert_eq!(polled.code, Some(0), "{}", polled.output());
    std::thread::sleep(Duration::from_secs(2));
    let after_poll = watch_requests(&cluster, &resources).values().sum::<u64>() - before_requests;
    assert_eq!(after_poll, made, "poll mode made WATCH requests");
}
