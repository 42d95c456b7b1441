//! Detection latency: how long after the decisive pod status write each watcher ends — rollwatch
//! (watch and poll), `kubectl rollout status`, and a 3-second poll loop, started together on the
//! same Deployment.

use crate::procs::{self, Ended, kubectl_ok, now_ms, poll_loop, spawn_timed};
use crate::simlog::{self, StatusWrite};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The Deployments' progress deadline: kubectl rollout status reports a failure only after it.
pub const PROGRESS_DEADLINE_S: u32 = 30;
/// How long the poll loop waits before giving up (longer than the progress deadline).
pub const POLL_LOOP_TIMEOUT: Duration = Duration::from_secs(45);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    BadImage,
    CrashLoop,
    Unschedulable,
}

impl Failure {
    pub const ALL: [Failure; 3] = [Failure::BadImage, Failure::CrashLoop, Failure::Unschedulable];

    pub fn label(self) -> &'static str {
        match self {
            Failure::BadImage => "bad image",
            Failure::CrashLoop => "crash loop",
            Failure::Unschedulable => "unschedulable",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Failure::BadImage => "image",
            Failure::CrashLoop => "crash",
            Failure::Unschedulable => "unsched",
        }
    }

    /// What the decisive write is, for the report.
    pub fn decisive_write(self) -> &'static str {
        match self {
            Failure::BadImage => "the simulator's first status write with `ErrImagePull`",
            Failure::CrashLoop => "the simulator's first status write with restartCount 1 (the first restart)",
            Failure::Unschedulable => "the scheduler's `PodScheduled=False` write, as the harness's own pod watch saw it (the simulator does not write it)",
        }
    }

    fn pod_template(self) -> (&'static str, &'static str) {
        // (behaviour annotation, extra container fields)
        match self {
            Failure::BadImage => ("pull-fail", ""),
            // The probe keeps the pod from being Ready (and the rollout complete) before it crashes.
            Failure::CrashLoop => ("crash exit=1 after=1s", ", readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 5, periodSeconds: 1}"),
            Failure::Unschedulable => ("ready", ", resources: {requests: {cpu: \"64\"}}"),
        }
    }
}

/// A Deployment of `replicas` pods with one container `app` behaving as `behavior`.
pub fn deployment(name: &str, replicas: u32, behavior: &str, extra: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, labels: {{{labels}}}}}
spec:
  replicas: {replicas}
  progressDeadlineSeconds: {PROGRESS_DEADLINE_S}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{sim.rollwatch.dev/behavior: \"{behavior}\"}}
    spec:
      containers: [{{name: app, image: registry.invalid/app:v1{extra}}}]
"
    )
}

/// One failing rollout's timings, in ms after the decisive write.
#[derive(Debug)]
pub struct FailureSample {
    pub failure: Failure,
    pub rollwatch_ms: i64,
    pub rollwatch_code: Option<i32>,
    pub rollwatch_reason: String,
    pub kubectl_ms: i64,
    pub kubectl_code: Option<i32>,
    pub poll_loop_code: Option<i32>,
    pub poll_loop_ms: i64,
}

/// Rollwatch's tolerances off: the latency of detection, not of the grace periods.
const NO_TOLERANCE: [&str; 6] = ["--waiting-grace", "0s", "--allowed-restarts", "0", "--unschedulable-grace", "0s"];

/// One repetition: the three failing rollouts at once, each in its own namespace.
pub fn failures(sim_log: &Path, rep: usize) -> Vec<FailureSample> {
    let runs: Vec<_> = Failure::ALL
        .into_iter()
        .map(|failure| {
            let namespace = format!("bench-fail-{}-{rep}", failure.slug());
            kubectl_ok(&["create", "namespace", &namespace], None);
            let watcher = (failure == Failure::Unschedulable).then(|| PodWatch::start(&namespace, "Unschedulable"));
            let (behavior, extra) = failure.pod_template();
            kubectl_ok(&["apply", "-n", &namespace, "-f", "-"], Some(&deployment("app", 1, behavior, extra, "bench: fail")));
            let mut rollwatch = procs::rollwatch();
            rollwatch.args(["wait", "deployment/app", "-n", &namespace, "-o", "json", "--timeout", "3m"]).args(NO_TOLERANCE);
            let mut kubectl = procs::kubectl();
            kubectl.args(["rollout", "status", "deployment/app", "-n", &namespace, "--timeout", "3m"]);
            let watchers = (spawn_timed(rollwatch), spawn_timed(kubectl), poll_loop(&namespace, "app", POLL_LOOP_TIMEOUT));
            (failure, namespace, watcher, watchers)
        })
        .collect();
    runs.into_iter()
        .map(|(failure, namespace, watcher, (rollwatch, kubectl, poll))| {
            let (rollwatch, kubectl, poll) = (join(rollwatch), join(kubectl), join(poll));
            let decisive = match failure {
                Failure::Unschedulable => watcher.expect("pod watch").finish().unwrap_or_else(|| panic!("{namespace}: no pod seen Unschedulable")),
                Failure::BadImage => first_write(sim_log, &namespace, |w| w.shows_reason("ErrImagePull")),
                Failure::CrashLoop => first_write(sim_log, &namespace, |w| w.restarts() >= 1),
            };
            kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"], None);
            FailureSample {
                failure,
                rollwatch_ms: rollwatch.at_ms - decisive,
                rollwatch_code: rollwatch.code,
                rollwatch_reason: last_reason(&rollwatch.stdout),
                kubectl_ms: kubectl.at_ms - decisive,
                kubectl_code: kubectl.code,
                poll_loop_code: poll.code,
                poll_loop_ms: poll.at_ms - decisive,
            }
        })
        .collect()
}

/// One successful rollout's timings, in ms after the last pod's first Ready write.
#[derive(Debug)]
pub struct SuccessSample {
    pub watch_ms: i64,
    pub poll_ms: i64,
    pub kubectl_ms: i64,
    pub codes: [Option<i32>; 3],
}

/// One repetition: a 3-replica Deployment that comes up, with all three watchers on it.
pub fn success(sim_log: &Path, rep: usize) -> SuccessSample {
    let namespace = format!("bench-ok-{rep}");
    kubectl_ok(&["create", "namespace", &namespace], None);
    kubectl_ok(&["apply", "-n", &namespace, "-f", "-"], Some(&deployment("app", 3, "ready", "", "bench: ok")));
    let mut watch = procs::rollwatch();
    watch.args(["wait", "deployment/app", "-n", &namespace, "--timeout", "3m"]);
    let mut poll = procs::rollwatch();
    poll.args(["wait", "deployment/app", "-n", &namespace, "--timeout", "3m", "--poll"]);
    let mut kubectl = procs::kubectl();
    kubectl.args(["rollout", "status", "deployment/app", "-n", &namespace, "--timeout", "3m"]);
    let (watch, poll, kubectl) = (spawn_timed(watch), spawn_timed(poll), spawn_timed(kubectl));
    let (watch, poll, kubectl) = (join(watch), join(poll), join(kubectl));
    let writes = simlog::in_namespace(sim_log, &namespace);
    let mut first_ready: std::collections::BTreeMap<&str, i64> = Default::default();
    for write in writes.iter().filter(|w| w.ready()) {
        first_ready.entry(&write.pod).or_insert(write.acked_ms);
    }
    assert_eq!(first_ready.len(), 3, "{namespace}: Ready writes for {first_ready:?}");
    let last_ready = *first_ready.values().max().expect("three pods");
    kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"], None);
    SuccessSample {
        watch_ms: watch.at_ms - last_ready,
        poll_ms: poll.at_ms - last_ready,
        kubectl_ms: kubectl.at_ms - last_ready,
        codes: [watch.code, poll.code, kubectl.code],
    }
}

fn join(handle: std::thread::JoinHandle<Ended>) -> Ended {
    handle.join().expect("watcher thread")
}

fn first_write(sim_log: &Path, namespace: &str, decisive: impl Fn(&StatusWrite) -> bool) -> i64 {
    let writes = simlog::in_namespace(sim_log, namespace);
    writes.iter().find(|w| decisive(w)).map(|w| w.acked_ms).unwrap_or_else(|| panic!("{namespace}: no decisive write among {writes:?}"))
}

/// The code of the first reason on rollwatch's last JSON line that has one.
fn last_reason(stdout: &str) -> String {
    stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["reasons"][0]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// A `kubectl get pods -w` of one namespace, noting when a pod's PodScheduled reason first
/// shows `reason`: the scheduler's write, seen by a watch as prompt as rollwatch's.
struct PodWatch {
    child: std::process::Child,
    seen: std::thread::JoinHandle<Option<i64>>,
}

impl PodWatch {
    fn start(namespace: &str, reason: &str) -> PodWatch {
        let mut child = procs::kubectl()
            .args(["get", "pods", "-n", namespace, "-w", "-o"])
            .arg(r#"jsonpath={.metadata.name} {.status.conditions[?(@.type=="PodScheduled")].reason}{"\n"}"#)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubectl get -w");
        let stdout = child.stdout.take().expect("stdout");
        let reason = reason.to_owned();
        let seen = std::thread::spawn(move || {
            BufReader::new(stdout).lines().map_while(Result::ok).find(|line| line.ends_with(&format!(" {reason}"))).map(|_| now_ms())
        });
        // Let the watch start before the pods exist.
        std::thread::sleep(Duration::from_millis(1500));
        PodWatch { child, seen }
    }

    fn finish(mut self) -> Option<i64> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.seen.join().expect("pod watch thread")
    }
}
