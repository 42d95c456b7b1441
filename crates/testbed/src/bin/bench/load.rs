//! API load, memory and CPU for N Deployments of 3 replicas rolled out at once: one `rollwatch
//! wait` over all N against one `kubectl rollout status` per Deployment in parallel (how people
//! parallelise it today), and a run with no watcher whose deltas (controllers, scheduler,
//! simulator) are subtracted from the other two.

use crate::latency::deployment;
use crate::metrics::{self, Scrape};
use crate::procs::{self, kubectl_ok};
use crate::simlog;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Pods become Ready 5 s after they start: a rollout long enough for the watch count to be sampled.
const READINESS: &str = ", readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 5, periodSeconds: 5}";
/// How often the open watches are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watcher {
    None,
    Rollwatch,
    Kubectl,
}

/// What one run cost the API server, and (for rollwatch) the watcher process itself.
#[derive(Debug)]
pub struct LoadSample {
    pub n: usize,
    pub watcher: Watcher,
    pub requests: BTreeMap<String, f64>,
    pub bytes: f64,
    /// Most watches open at once during the run.
    pub peak_watchers: f64,
    pub seconds: f64,
    /// rollwatch's peak RSS (KiB) and CPU seconds, from /usr/bin/time.
    pub rollwatch_rss_kib: Option<u64>,
    pub rollwatch_cpu_s: Option<f64>,
    /// The watchers' exit codes (distinct).
    pub codes: Vec<Option<i32>>,
}

/// Rolls out `n` Deployments in a fresh namespace with `watcher` on them, until every pod is
/// Ready and every watcher has ended; then lets controllers settle for a moment, and deletes the
/// namespace. Call [`wait_for_quiet`] before the first run.
pub fn run(sim_log: &Path, n: usize, watcher: Watcher) -> LoadSample {
    let namespace = format!("bench-load-{n}-{}", format!("{watcher:?}").to_lowercase());
    kubectl_ok(&["create", "namespace", &namespace], None);
    let manifest: String = (0..n).map(|i| deployment(&format!("d{i}"), 3, "ready", READINESS, "bench: load") + "---\n").collect();
    let before = metrics::scrape();
    let started = Instant::now();
    kubectl_ok(&["apply", "-n", &namespace, "-f", "-"], Some(&manifest));
    let mut children: Vec<Child> = match watcher {
        Watcher::None => Vec::new(),
        Watcher::Rollwatch => vec![
            std::process::Command::new("/usr/bin/time")
                .args(["-f", "rss_kib=%M cpu_s=%U+%S"])
                .arg(std::env::var_os("ROLLWATCH_BIN").expect("ROLLWATCH_BIN"))
                .args(["wait", "deployment", "-l", "bench=load", "-n", &namespace, "--timeout", "20m"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("rollwatch under /usr/bin/time"),
        ],
        Watcher::Kubectl => (0..n)
            .map(|i| {
                procs::kubectl()
                    .args(["rollout", "status", &format!("deployment/d{i}"), "-n", &namespace, "--timeout", "20m"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("kubectl rollout status")
            })
            .collect(),
    };
    let mut peak_watchers = before.watchers();
    let mut scrapes = 0.0;
    let mut codes = Vec::new();
    let mut time_output = String::new();
    loop {
        peak_watchers = peak_watchers.max(metrics::scrape().watchers());
        scrapes += 1.0;
        let mut still_running = Vec::new();
        for mut child in children.drain(..) {
            match child.try_wait().expect("try_wait") {
                Some(status) => {
                    if let Some(mut stderr) = child.stderr.take() {
                        use std::io::Read;
                        let _ = stderr.read_to_string(&mut time_output);
                    }
                    if !codes.contains(&status.code()) {
                        codes.push(status.code());
                    }
                }
                None => still_running.push(child),
            }
        }
        children = still_running;
        if children.is_empty() && ready_pods(sim_log, &namespace) >= 3 * n {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "{namespace}: not done after 30 minutes");
        std::thread::sleep(SAMPLE_EVERY);
    }
    let seconds = started.elapsed().as_secs_f64();
    // The Deployment controller's last status updates land just after the last pod is Ready.
    std::thread::sleep(Duration::from_secs(3));
    let after = metrics::scrape();
    // Deleted before the next run, so its garbage collection is not counted there.
    kubectl_ok(&["delete", "namespace", &namespace, "--timeout=5m"], None);
    let mut requests = delta(&before, &after);
    // The sampling scrapes were GETs of /metrics: the benchmark's, not the watcher's.
    *requests.entry("GET".into()).or_insert(0.0) -= scrapes;
    let field = |name: &str| time_output.split_whitespace().find_map(|t| t.strip_prefix(name)).map(str::to_owned);
    LoadSample {
        n,
        watcher,
        requests,
        bytes: after.bytes_sent() - before.bytes_sent(),
        peak_watchers: peak_watchers - before.watchers(),
        seconds,
        rollwatch_rss_kib: field("rss_kib=").and_then(|v| v.parse().ok()),
        rollwatch_cpu_s: field("cpu_s=").map(|v| v.split('+').filter_map(|x| x.parse::<f64>().ok()).sum()),
        codes,
    }
}

/// Pods of the namespace the simulator has written Ready (read from its log: no API requests).
fn ready_pods(sim_log: &Path, namespace: &str) -> usize {
    let ready: std::collections::BTreeSet<String> = simlog::in_namespace(sim_log, namespace).into_iter().filter(|w| w.ready()).map(|w| w.pod).collect();
    ready.len()
}

fn delta(before: &Scrape, after: &Scrape) -> BTreeMap<String, f64> {
    let before = before.requests_by_verb();
    after.requests_by_verb().into_iter().map(|(verb, v)| (verb.clone(), v - before.get(&verb).copied().unwrap_or(0.0))).collect()
}

/// Waits until the namespaces of earlier benchmark steps are gone, so their deletion does not
/// show in the load runs' counters.
pub fn wait_for_quiet() {
    let started = Instant::now();
    while kubectl_ok(&["get", "namespaces", "-o", "name"], None).lines().any(|ns| ns.starts_with("namespace/bench-")) {
        assert!(started.elapsed() < Duration::from_secs(600), "benchmark namespaces still there after 10 minutes");
        std::thread::sleep(Duration::from_secs(2));
    }
}
