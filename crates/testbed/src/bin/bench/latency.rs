//! Detection latency: how long after the decisive pod status write each watcher ends — rollwatch
//! (watch and poll), `kubectl rollout status`, and a 3-second poll loop, started together on the
//! same Deployment.

use crate::procs::{self, Ended, kubectl_ok, now_ms, poll_loop, spawn_timed};
use crate::simlog::{self, StatusWrite};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How one watcher ended, in ms after the decisive write.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    pub ms: i64,
    pub code: Option<i32>,
}

/// One failing rollout's timings. kubectl and the poll loop watch only some of the rollouts
/// (see [`failures`]).
#[derive(Debug)]
pub struct FailureSample {
    pub failure: Failure,
    pub rollwatch: Watched,
    pub rollwatch_reason: String,
    pub kubectl: Option<Watched>,
    pub poll_loop: Option<Watched>,
}

/// Rollwatch's tolerances off: the latency of detection, not of the grace periods.
const NO_TOLERANCE: [&str; 6] = ["--waiting-grace", "0s", "--allowed-restarts", "0", "--unschedulable-grace", "0s"];

/// Which watchers a failing rollout gets besides rollwatch.
#[derive(Debug, Clone, Copy)]
struct Others {
    kubectl: bool,
    poll_loop: bool,
}

/// Lanes of rollwatch-only failing rollouts per kind of failure, run while kubectl waits out
/// the progress deadline (see [`failures`]).
pub const ROLLWATCH_ONLY_LANES: usize = 1;

/// What one repetition measured.
pub struct Repetition {
    pub samples: Vec<FailureSample>,
    /// How many of them only rollwatch watched.
    pub rollwatch_only: usize,
}

/// One repetition: `parallel` failing rollouts of each kind at once, each in its own namespace,
/// each watched by rollwatch and `kubectl rollout status`, the first of each kind also by the
/// poll loop (it ends at its timeout every time: one per kind is enough, and each costs a
/// kubectl process every 3 s). kubectl waits out the progress deadline, so meanwhile
/// [`ROLLWATCH_ONLY_LANES`] lanes per kind run rollwatch-only failing rollouts one after another
/// until kubectl and the poll loop have ended, adding rollwatch samples at no cost in time.
pub fn failures(sim_log: &Path, rep: usize, parallel: usize) -> Repetition {
    let prepared: Vec<Prepared> =
        (0..parallel).flat_map(|i| Failure::ALL.map(|failure| Prepared::new(failure, format!("bench-fail-{}-{rep}-{i}", failure.slug())))).collect();
    let watched: Vec<FailureRun> = launch(prepared, |p| Others { kubectl: true, poll_loop: p.namespace.ends_with("-0") });
    let stop = AtomicBool::new(false);
    let rollwatch_only: Vec<FailureSample> = std::thread::scope(|scope| {
        let stop = &stop;
        let lanes: Vec<_> = (0..ROLLWATCH_ONLY_LANES)
            .flat_map(|lane| Failure::ALL.map(|failure| (lane, failure)))
            .map(|(lane, failure)| scope.spawn(move || rollwatch_only_lane(sim_log, failure, &format!("bench-fail-{}-{rep}-l{lane}", failure.slug()), stop)))
            .collect();
        while !watched.iter().all(FailureRun::is_finished) {
            std::thread::sleep(Duration::from_millis(200));
        }
        stop.store(true, Ordering::Relaxed);
        lanes.into_iter().flat_map(|lane| lane.join().expect("rollwatch-only lane")).collect()
    });
    let mut samples: Vec<FailureSample> = watched.into_iter().map(|r| r.finish(sim_log)).collect();
    let extra = rollwatch_only.len();
    samples.extend(rollwatch_only);
    Repetition { samples, rollwatch_only: extra }
}

/// Failing rollouts of one kind watched by rollwatch alone, one after another until `stop`.
fn rollwatch_only_lane(sim_log: &Path, failure: Failure, prefix: &str, stop: &AtomicBool) -> Vec<FailureSample> {
    let mut samples = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let prepared = Prepared::new(failure, format!("{prefix}-{}", samples.len()));
        let run = launch(vec![prepared], |_| Others { kubectl: false, poll_loop: false });
        samples.extend(run.into_iter().map(|r| r.finish(sim_log)));
    }
    samples
}

/// A namespace made for one failing rollout, with the harness's pod watch for the unschedulable one.
struct Prepared {
    failure: Failure,
    namespace: String,
    pod_watch: Option<PodWatch>,
}

impl Prepared {
    fn new(failure: Failure, namespace: String) -> Prepared {
        kubectl_ok(&["create", "namespace", &namespace], None);
        let pod_watch = (failure == Failure::Unschedulable).then(|| PodWatch::start(&namespace, "Unschedulable"));
        Prepared { failure, namespace, pod_watch }
    }
}

/// Applies the prepared rollouts and starts their watchers, right after one another.
fn launch(prepared: Vec<Prepared>, others: impl Fn(&Prepared) -> Others) -> Vec<FailureRun> {
    if prepared.iter().any(|p| p.pod_watch.is_some()) {
        // Let the pod watches start before the pods exist.
        std::thread::sleep(Duration::from_millis(1500));
    }
    prepared
        .into_iter()
        .map(|p| {
            let others = others(&p);
            FailureRun::start(p, others)
        })
        .collect()
}

/// A failing rollout with its watchers running.
struct FailureRun {
    prepared: Prepared,
    rollwatch: JoinHandle<Ended>,
    kubectl: Option<JoinHandle<Ended>>,
    poll_loop: Option<JoinHandle<Ended>>,
}

impl FailureRun {
    fn start(prepared: Prepared, others: Others) -> FailureRun {
        let namespace = prepared.namespace.as_str();
        let (behavior, extra) = prepared.failure.pod_template();
        kubectl_ok(&["apply", "-n", namespace, "-f", "-"], Some(&deployment("app", 1, behavior, extra, "bench: fail")));
        let mut rollwatch = procs::rollwatch();
        rollwatch.args(["wait", "deployment/app", "-n", namespace, "-o", "json", "--timeout", "3m"]).args(NO_TOLERANCE);
        let rollwatch = spawn_timed(rollwatch);
        let kubectl = others.kubectl.then(|| {
            let mut kubectl = procs::kubectl();
            kubectl.args(["rollout", "status", "deployment/app", "-n", namespace, "--timeout", "3m"]);
            spawn_timed(kubectl)
        });
        let poll_loop = others.poll_loop.then(|| poll_loop(namespace, "app", POLL_LOOP_TIMEOUT));
        FailureRun { prepared, rollwatch, kubectl, poll_loop }
    }

    fn is_finished(&self) -> bool {
        self.rollwatch.is_finished() && [&self.kubectl, &self.poll_loop].into_iter().flatten().all(JoinHandle::is_finished)
    }

    /// Waits for the watchers, finds the decisive write and deletes the namespace.
    fn finish(self, sim_log: &Path) -> FailureSample {
        let FailureRun { prepared: Prepared { failure, namespace, pod_watch }, rollwatch, kubectl, poll_loop } = self;
        let (rollwatch, kubectl, poll_loop) = (join(rollwatch), kubectl.map(join), poll_loop.map(join));
        let decisive = match failure {
            Failure::Unschedulable => pod_watch.expect("pod watch").finish().unwrap_or_else(|| panic!("{namespace}: no pod seen Unschedulable")),
            Failure::BadImage => first_write(sim_log, &namespace, |w| w.shows_reason("ErrImagePull")),
            Failure::CrashLoop => first_write(sim_log, &namespace, |w| w.restarts() >= 1),
        };
        kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"], None);
        let after = |ended: &Ended| Watched { ms: ended.at_ms - decisive, code: ended.code };
        FailureSample {
            failure,
            rollwatch: after(&rollwatch),
            rollwatch_reason: last_reason(&rollwatch.stdout),
            kubectl: kubectl.as_ref().map(after),
            poll_loop: poll_loop.as_ref().map(after),
        }
    }
}

/// One successful rollout's timings, in ms after the last pod's first Ready write.
#[derive(Debug)]
pub struct SuccessSample {
    /// rollwatch with `--stable-for 0`, kubectl's instant verdict: the raw detection latency,
    /// comparable with runs before the settle window became the default.
    pub watch_ms: i64,
    /// The same with the poll feed.
    pub poll_ms: i64,
    pub kubectl_ms: i64,
    /// rollwatch with its default settle window: the window plus detection.
    pub settled_ms: i64,
    /// Exit codes: watch, poll, kubectl, settled.
    pub codes: [Option<i32>; 4],
}

/// One repetition: a 3-replica Deployment that comes up, with all four watchers on it.
pub fn success(sim_log: &Path, rep: usize) -> SuccessSample {
    let namespace = format!("bench-ok-{rep}");
    kubectl_ok(&["create", "namespace", &namespace], None);
    kubectl_ok(&["apply", "-n", &namespace, "-f", "-"], Some(&deployment("app", 3, "ready", "", "bench: ok")));
    let mut watch = procs::rollwatch();
    watch.args(["wait", "deployment/app", "-n", &namespace, "--timeout", "3m", "--stable-for", "0"]);
    let mut poll = procs::rollwatch();
    poll.args(["wait", "deployment/app", "-n", &namespace, "--timeout", "3m", "--poll", "--stable-for", "0"]);
    let mut kubectl = procs::kubectl();
    kubectl.args(["rollout", "status", "deployment/app", "-n", &namespace, "--timeout", "3m"]);
    let mut settled = procs::rollwatch();
    settled.args(["wait", "deployment/app", "-n", &namespace, "--timeout", "3m"]);
    let (watch, poll, kubectl, settled) = (spawn_timed(watch), spawn_timed(poll), spawn_timed(kubectl), spawn_timed(settled));
    let (watch, poll, kubectl, settled) = (join(watch), join(poll), join(kubectl), join(settled));
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
        settled_ms: settled.at_ms - last_ready,
        codes: [watch.code, poll.code, kubectl.code, settled.code],
    }
}

fn join(handle: JoinHandle<Ended>) -> Ended {
    handle.join().expect("watcher thread")
}

/// The first write of `namespace` that is `decisive`. The simulator logs a write once the API
/// server has acknowledged it, as a watcher may be seeing it: it can land in the log just after
/// a quick watcher's exit, so the log is read again for a while.
fn first_write(sim_log: &Path, namespace: &str, decisive: impl Fn(&StatusWrite) -> bool) -> i64 {
    let started = Instant::now();
    loop {
        let writes = simlog::in_namespace(sim_log, namespace);
        if let Some(write) = writes.iter().find(|w| decisive(w)) {
            return write.acked_ms;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{namespace}: no decisive write among {writes:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
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
/// shows `reason`: the scheduler's write, seen by a watch as prompt as rollwatch's. Start it a
/// moment before the pods exist (see [`launch`]).
struct PodWatch {
    child: std::process::Child,
    seen: JoinHandle<Option<i64>>,
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
        PodWatch { child, seen }
    }

    /// When the reason was seen. A quick watcher can end just before this watch sees it, so it
    /// gets a while to see it before it is stopped.
    fn finish(mut self) -> Option<i64> {
        let started = Instant::now();
        while !self.seen.is_finished() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.seen.join().expect("pod watch thread")
    }
}
