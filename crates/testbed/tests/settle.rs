//! The default settle window (issue #11): a pod that dies seconds after becoming Ready — a crash
//! with or without a readiness probe, an OOM kill, a liveness failure — fails `rollwatch apply` at
//! once with the usual explanation, where `kubectl rollout status` (and `--stable-for 0`) would
//! report success; and a slow healthy rolling update waits at most the window more, once, at the end.
//!
//! The simulator's behaviours end the container 3 s after it starts, just past readiness (probes
//! below pass after 1 s), and restart it 1 s later. The time bounds are generous: the window
//! (10 s) plus the restart plus 30 s of slack for a busy machine.

use rollwatch_testbed::{Run, TestNamespace, deployment};
use serde_json::Value;

/// The default settle window, in seconds.
const WINDOW: f64 = 10.0;
/// Room for a busy machine on top of the window and the simulator's 1 s restart.
const SLACK: f64 = 30.0;
/// A readiness probe that passes from 1 s after the start.
const READINESS: &str = r#"readinessProbe: {exec: {command: ["true"]}, initialDelaySeconds: 1, periodSeconds: 1}"#;

/// `rollwatch apply -f - -o json` of `manifest` with the default window, plus `extra` flags.
fn apply(ns: &TestNamespace, manifest: &str, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["apply", "-f", "-", "-o", "json", "--timeout", "3m"];
    args.extend_from_slice(extra);
    let run = ns.rollwatch_stdin(&args, manifest);
    let lines = run.json_lines();
    (run, lines)
}

/// The summary entry of `name`.
fn outcome<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    let summary = lines.last().filter(|l| l["event"] == "summary").expect("a summary line");
    summary["objects"].as_array().unwrap().iter().find(|o| o["object"]["name"] == name).expect("the object in the summary")
}

/// Asserts that `name` failed, inside the settle window, within the window plus the restart (and
/// slack) of the run's start, on its pod and container `app`; returns the summary entry.
fn failed_in_window<'a>(run: &Run, lines: &'a [Value], name: &str, codes: &[&str]) -> &'a Value {
    assert_eq!(run.code, Some(1), "a death right after Ready fails the rollout:\n{}", run.output());
    let object = outcome(lines, name);
    assert_eq!(object["state"], "Failed", "{object:#}");
    let reason = &object["reasons"][0];
    assert!(codes.iter().any(|code| reason["code"] == *code), "a reason with code {codes:?}: {reason:#}");
    assert!(reason["object"]["name"].as_str().unwrap().starts_with(&format!("{name}-")), "{reason:#}");
    assert_eq!(reason["container"], "app", "{reason:#}");
    // The single restart fails because of the window, not because restarts piled up.
    assert!(reason["message"].as_str().unwrap().contains("settle window"), "{reason:#}");
    let failed = lines.iter().find(|l| l["event"] == "verdict" && l["object"]["name"] == name && l["state"] == "Failed").expect("a Failed verdict line");
    let elapsed = failed["elapsed_seconds"].as_f64().unwrap();
    assert!(elapsed < 3.0 + WINDOW + 1.0 + SLACK, "failed {elapsed} s after the start:\n{}", run.stdout);
    object
}

/// The explanation carries the crashed instance's last log lines.
fn explained_with_logs(object: &Value, expected_line: &str) {
    let details = object["explanation"]["details"].as_array().expect("explanation details");
    let lines: Vec<&str> = details.iter().filter_map(|d| d["logs"]["lines"].as_array()).flatten().filter_map(Value::as_str).collect();
    assert!(lines.iter().any(|line| line.contains(expected_line)), "log line {expected_line:?} in {:#}", object["explanation"]);
}

#[test]
fn a_crash_just_after_the_readiness_probe_passes_fails_the_rollout() {
    let ns = TestNamespace::new("s-crash");
    let manifest = deployment("crasher", 2, "busybox:1.36", r#"crash exit=3 after=3s log="connected""#, READINESS, "");
    let (run, lines) = apply(&ns, &manifest, &[]);
    let crasher = failed_in_window(&run, &lines, "crasher", &["NonZeroExit", "CrashLoopBackOff"]);
    assert_eq!(crasher["reasons"][0]["exit_code"], 3, "{crasher:#}");
    explained_with_logs(crasher, "exiting with code 3");
}

#[test]
fn a_crash_without_a_readiness_probe_fails_the_rollout_and_zero_gives_kubectls_instant_verdict() {
    let ns = TestNamespace::new("s-noprobe");
    let manifest = deployment("crasher", 2, "busybox:1.36", "crash exit=3 after=3s", "", "");
    let (run, lines) = apply(&ns, &manifest, &[]);
    failed_in_window(&run, &lines, "crasher", &["NonZeroExit", "CrashLoopBackOff"]);

    // `--stable-for 0` is kubectl's verdict: ready the moment the pods are, before they crash.
    let ns = TestNamespace::new("s-instant");
    let (run, lines) = apply(&ns, &manifest, &["--stable-for", "0"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(outcome(&lines, "crasher")["state"], "Ready");
}

#[test]
fn an_oom_kill_just_after_ready_fails_the_rollout() {
    let ns = TestNamespace::new("s-oom");
    let manifest = deployment("hungry", 2, "busybox:1.36", "oom after=3s", &format!("resources: {{limits: {{memory: 64Mi}}}}\n        {READINESS}"), "");
    let (run, lines) = apply(&ns, &manifest, &[]);
    let hungry = failed_in_window(&run, &lines, "hungry", &["OOMKilled"]);
    assert_eq!(hungry["reasons"][0]["exit_code"], 137, "{hungry:#}");
}

#[test]
fn a_liveness_failure_just_after_ready_fails_the_rollout() {
    let ns = TestNamespace::new("s-liveness");
    let liveness = r#"livenessProbe: {exec: {command: ["true"]}, periodSeconds: 1, failureThreshold: 1}"#;
    let manifest = deployment("sick", 2, "nginx:1.19", "liveness-fail after=3s", &format!("{liveness}\n        {READINESS}"), "");
    let (run, lines) = apply(&ns, &manifest, &[]);
    // The kill shows in the pod's status and the probe's Unhealthy event in an Event: whichever
    // arrives first, the verdict has the exit (137) and, with the event, names the probe.
    let sick = failed_in_window(&run, &lines, "sick", &["LivenessProbeFailed", "NonZeroExit"]);
    assert_eq!(sick["reasons"][0]["exit_code"], 137, "{sick:#}");
    explained_with_logs(sick, "app started");
}

#[test]
fn one_crashing_deployment_among_several_in_one_apply_fails_the_run() {
    let ns = TestNamespace::new("s-several");
    let manifest = [
        deployment("front", 2, "nginx:1.19", "ready", READINESS, ""),
        deployment("flaky", 2, "busybox:1.36", "crash exit=5 after=3s", READINESS, ""),
        deployment("back", 2, "nginx:1.19", "ready", READINESS, ""),
    ]
    .join("---");
    let (run, lines) = apply(&ns, &manifest, &[]);
    let flaky = failed_in_window(&run, &lines, "flaky", &["NonZeroExit", "CrashLoopBackOff"]);
    assert_eq!(flaky["reasons"][0]["exit_code"], 5, "{flaky:#}");
    for healthy in ["front", "back"] {
        assert_ne!(outcome(&lines, healthy)["state"], "Failed", "{}", run.stdout);
    }
}

#[test]
fn a_slow_healthy_rolling_update_waits_at_most_the_window_more() {
    let ns = TestNamespace::new("s-slow");
    // Each pod is Ready 4 s after its start; one new pod at a time, so four waves.
    let probe = r#"readinessProbe: {exec: {command: ["true"]}, initialDelaySeconds: 4, periodSeconds: 1}"#;
    let strategy = "strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}";
    let manifest = deployment("web", 4, "nginx:1.19", "ready", probe, strategy);
    // The first rollout in plain text: it says what it is waiting for.
    let first = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "3m"], &manifest);
    assert_eq!(first.code, Some(0), "{}", first.output());
    assert!(first.stdout.contains("to be stable") && first.stdout.contains("(settling: "), "{}", first.output());

    let update = ns.rollwatch(&["set", "image", "deployment/web", "app=nginx:1.20", "-o", "json", "--timeout", "5m"]);
    assert_eq!(update.code, Some(0), "{}", update.output());
    let lines = update.json_lines();
    let verdicts: Vec<&Value> = lines.iter().filter(|l| l["event"] == "verdict").collect();
    assert!(verdicts.iter().all(|v| v["state"] != "Failed"), "{}", update.stdout);
    // The controller reports the update done (kubectl's verdict) once the last pod is Ready; the
    // window, counted from each pod's own Ready, then adds at most its length.
    let settling = verdicts.iter().find(|v| !v["settling"].is_null()).expect("a verdict line while settling");
    let left = settling["settling"]["seconds_left"].as_f64().unwrap();
    assert!(left <= WINDOW, "{settling:#}");
    let ready = verdicts.iter().find(|v| v["state"] == "Ready").expect("a Ready verdict line");
    let delay = ready["elapsed_seconds"].as_f64().unwrap() - settling["elapsed_seconds"].as_f64().unwrap();
    assert!(delay <= WINDOW + 15.0, "Ready {delay} s after the controller's verdict:\n{}", update.stdout);
    assert_eq!(ns.get("deployment/web")["status"]["updatedReplicas"], 4);
}
