//! Faults of the network between rollwatch and the API server, injected by a proxy on loopback
//! ([`ApiProxy`]): throttling (429 with Retry-After) on a share of the requests changes no
//! verdict, a storm that outlasts the retries is a clear cluster access error (exit 4), and a
//! watch connection that goes silent without closing is noticed, marked stale and resumed.

use std::time::Duration;

use rollwatch_testbed::{ApiProxy, Run, TestNamespace, deployment, kubeconfig, rollwatch_with, spawn_rollwatch_with};
use serde_json::Value;

/// A Deployment that becomes ready and one whose container crashes at start-up.
fn workloads() -> (String, String) {
    let ready = deployment("web", 2, "nginx:1.19", "ready", "", "");
    let crashing = deployment("crashy", 1, "nginx:1.19", "crash exit=3 after=1s backoff=2s", "", "");
    (ready, crashing)
}

/// `apply` of the ready Deployment, then `wait` on the crashing one, in `ns`, through `via`.
fn apply_and_wait(ns: &TestNamespace, via: &std::path::Path) -> (Run, Run) {
    let (ready, crashing) = workloads();
    ns.apply(&crashing).ok();
    let applied = rollwatch_with(via, &["-n", &ns.name, "apply", "-f", "-", "-o", "json", "--timeout", "3m"], Some(&ready));
    let waited = rollwatch_with(via, &["-n", &ns.name, "wait", "deployment/crashy", "-o", "json", "--timeout", "3m"], None);
    (applied, waited)
}

fn summary(run: &Run) -> Value {
    run.json_lines().pop().unwrap_or_else(|| panic!("no summary: {}", run.output()))
}

/// The verdict as a pipeline sees it: exit code, result, and per object (kind and name) its state
/// and whether a crash of container `app` is among its reasons (CrashLoopBackOff or NonZeroExit,
/// by timing).
fn verdict(run: &Run) -> (Option<i32>, Value, Vec<(String, Value, bool)>) {
    let summary = summary(run);
    let objects = summary["objects"].as_array().cloned().unwrap_or_default();
    let states = objects
        .iter()
        .map(|o| {
            let crashed = o["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| (r["code"] == "CrashLoopBackOff" || r["code"] == "NonZeroExit") && r["container"] == "app");
            (format!("{}/{}", o["object"]["kind"], o["object"]["name"]), o["state"].clone(), crashed)
        })
        .collect();
    (run.code, summary["result"].clone(), states)
}

#[test]
fn throttling_a_third_of_the_requests_changes_no_verdict() {
    let calm = TestNamespace::new("calm");
    let (applied, waited) = apply_and_wait(&calm, &kubeconfig());
    assert_eq!(applied.code, Some(0), "{}", applied.output());
    assert_eq!(waited.code, Some(1), "{}", waited.output());

    // Every third request — discovery, dry run, apply, list, watch, whatever comes — is answered
    // 429 with a Retry-After of 1 s.
    let stormy = TestNamespace::new("throttled");
    let proxy = ApiProxy::start(&kubeconfig());
    proxy.throttle_every(3);
    let (applied_throttled, waited_throttled) = apply_and_wait(&stormy, &proxy.kubeconfig());
    let counts = proxy.counts();
    eprintln!(
        "throttled {} of {} requests ({} of them watches), {} connections; apply {:?} in {:.1} s (calm {:.1} s), wait {:?} in {:.1} s (calm {:.1} s)",
        counts.throttled,
        counts.requests,
        counts.throttled_watches,
        counts.connections,
        applied_throttled.code,
        summary(&applied_throttled)["elapsed_seconds"].as_f64().unwrap_or(f64::NAN),
        summary(&applied)["elapsed_seconds"].as_f64().unwrap_or(f64::NAN),
        waited_throttled.code,
        summary(&waited_throttled)["elapsed_seconds"].as_f64().unwrap_or(f64::NAN),
        summary(&waited)["elapsed_seconds"].as_f64().unwrap_or(f64::NAN),
    );
    assert!(counts.throttled >= 5, "the storm throttled {counts:?}");
    assert_eq!(verdict(&applied_throttled), verdict(&applied), "apply:\n{}\n{}", applied_throttled.output(), applied.output());
    assert_eq!(verdict(&waited_throttled), verdict(&waited), "wait:\n{}\n{}", waited_throttled.output(), waited.output());
}

#[test]
fn a_throttling_storm_longer_than_the_retries_is_a_cluster_access_error() {
    let ns = TestNamespace::new("storm");
    let proxy = ApiProxy::start(&kubeconfig());
    proxy.throttle_every(1);
    let (ready, _) = workloads();
    for (args, input) in [
        (vec!["-n", ns.name.as_str(), "apply", "-f", "-", "--timeout", "2m"], Some(ready.as_str())),
        (vec!["-n", ns.name.as_str(), "wait", "deployment/web", "--timeout", "2m"], None),
    ] {
        let run = rollwatch_with(&proxy.kubeconfig(), &args, input);
        assert_eq!(run.code, Some(4), "{args:?}: {}", run.output());
        assert!(run.stderr.contains("the API server is throttling requests (429 Too Many Requests"), "{args:?}: {}", run.output());
    }
    let counts = proxy.counts();
    eprintln!("storm: {} of {} requests throttled", counts.throttled, counts.requests);
    assert_eq!(counts.throttled, counts.requests, "every request was throttled");
    assert!(counts.throttled >= 10, "each command asked 5 times: {counts:?}");
    assert!(absent(&ns, "deployment/web"), "nothing was applied");
}

fn absent(ns: &TestNamespace, what: &str) -> bool {
    let run = ns.kubectl(&["get", what]);
    !run.success && run.stderr.contains("NotFound")
}

#[test]
fn a_watch_connection_that_goes_silent_is_noticed_marked_stale_and_resumed() {
    let ns = TestNamespace::new("silent");
    // Ready 25 s after start: while rollwatch's connections are frozen.
    let probe = "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 25, periodSeconds: 1}";
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", probe, "")).ok();
    let proxy = ApiProxy::start(&kubeconfig());
    let waiting = spawn_rollwatch_with(&proxy.kubeconfig(), &["-n", &ns.name, "wait", "deployment/web", "-o", "json", "--timeout", "4m"]);
    // The first verdict comes once every watch has listed: they are open now.
    waiting.wait_for_stdout("\"event\":\"verdict\"", Duration::from_secs(60));
    let frozen_at = jiff::Timestamp::now();
    proxy.freeze_open_connections();

    // kube's watcher alone would resume silently after 295 s: the run would time out (exit 3).
    let run = waiting.finish(Duration::from_secs(300));
    assert_eq!(run.code, Some(0), "{}", run.output());
    let lines = run.json_lines();
    let trouble = lines
        .iter()
        .position(|l| l["event"] == "trouble" && l["message"].as_str().is_some_and(|m| m.contains("presumed dead")))
        .unwrap_or_else(|| panic!("the silent connection was not noticed:\n{}", run.stdout));
    let noticed: jiff::Timestamp = lines[trouble]["time"].as_str().unwrap().parse().unwrap();
    let after = noticed.duration_since(frozen_at).as_secs_f64();
    let ready = lines.iter().position(|l| l["event"] == "verdict" && l["state"] == "Ready").expect("a Ready verdict");
    eprintln!(
        "silent connections noticed {after:.1} s after the freeze: {}; ready {:.1} s into the run",
        lines[trouble]["message"], lines[ready]["elapsed_seconds"]
    );
    // The feeds' read timeout is 53 s after the last byte; a generous bound on top.
    assert!(after < 53.0 + 60.0, "noticed only {after:.1} s after the freeze");
    assert!(ready > trouble, "ready from the frozen picture:\n{}", run.stdout);
    assert_eq!(lines.last().unwrap()["result"], "ready");
}
