//! API load, memory and CPU for N Deployments of 3 replicas rolled out at once: one `rollwatch
//! wait` over all N against one `kubectl rollout status` per Deployment in parallel (how people
//! parallelise it today), and a run with no watcher. The watchers sign in as the benchmark's own
//! user, so the audit log counts exactly their requests; bytes come from /metrics, which counts
//! every client, so the no-watcher run's bytes (controllers, scheduler, simulator) are subtracted.

use crate::audit::{AuditLog, BENCH_CONTEXT, BENCH_USER, ClientRequests, Record};
use crate::latency::deployment;
use crate::metrics;
use crate::procs::{self, kubectl_ok};
use crate::simlog;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Pods become Ready 5 s after they start: a rollout long enough for the watch count to be sampled.
const READINESS: &str = ", readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 5, periodSeconds: 5}";
/// How often the run looks whether the watchers have ended and every pod is Ready.
const CHECK_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watcher {
    None,
    Rollwatch,
    Kubectl,
}

impl Watcher {
    /// The program its requests name in their user agent.
    fn program(self) -> Option<&'static str> {
        match self {
            Watcher::None => None,
            Watcher::Rollwatch => Some("rollwatch"),
            Watcher::Kubectl => Some("kubectl"),
        }
    }
}

/// What one run cost the API server, and (for rollwatch) the watcher process itself.
#[derive(Debug)]
pub struct LoadSample {
    pub n: usize,
    pub watcher: Watcher,
    /// The watcher's own requests (audit log: the benchmark's user and the watcher's user agent).
    pub requests: ClientRequests,
    /// Requests of the benchmark's user in the run from other programs, by program (the
    /// `kubectl` command here may be a wrapper that asks for /version before it runs kubectl).
    pub other_programs: BTreeMap<String, ClientRequests>,
    /// kubectl's requests to fill its empty discovery cache before the run (kubectl runs only).
    pub cache_warm_up: Option<ClientRequests>,
    /// Requests of every client received during the run and completed by its end (audit log).
    pub all_clients: usize,
    /// Bytes the API server sent to every client during the run (/metrics).
    pub bytes: f64,
    pub seconds: f64,
    /// rollwatch's peak RSS (KiB), CPU seconds and run time, from /usr/bin/time.
    pub rollwatch_rss_kib: Option<u64>,
    pub rollwatch_cpu_s: Option<f64>,
    pub rollwatch_wall_s: Option<f64>,
    /// What rollwatch's engine logged at its end (`RUST_LOG=rollwatch_tracker=debug`).
    pub rollwatch_engine: Option<EngineCounts>,
    /// The watchers' exit codes (distinct).
    pub codes: Vec<Option<i32>>,
}

/// Rolls out `n` Deployments in a fresh namespace with `watcher` on them, until every pod is
/// Ready and every watcher has ended; then lets controllers settle for a moment, and deletes the
/// namespace. Call [`wait_for_quiet`] before the first run.
pub fn run(sim_log: &Path, audit: &AuditLog, n: usize, watcher: Watcher) -> LoadSample {
    let namespace = format!("bench-load-{n}-{}", format!("{watcher:?}").to_lowercase());
    kubectl_ok(&["create", "namespace", &namespace], None);
    let manifest: String = (0..n).map(|i| deployment(&format!("d{i}"), 3, "ready", READINESS, "bench: load") + "---\n").collect();
    let log_start = audit.end();
    let kubectl_cache = (watcher == Watcher::Kubectl).then(|| warm_kubectl_cache(n));
    let watching_from = Timestamp::now();
    let before = metrics::scrape();
    let started = Instant::now();
    kubectl_ok(&["apply", "-n", &namespace, "-f", "-"], Some(&manifest));
    let mut children: Vec<Child> = match watcher {
        Watcher::None => Vec::new(),
        Watcher::Rollwatch => vec![
            std::process::Command::new("/usr/bin/time")
                .args(["-f", "rss_kib=%M cpu_s=%U+%S wall_s=%e"])
                .arg(std::env::var_os("ROLLWATCH_BIN").expect("ROLLWATCH_BIN"))
                .args(["--context", BENCH_CONTEXT, "wait", "deployment", "-l", "bench=load", "-n", &namespace, "--timeout", "20m"])
                .env("RUST_LOG", "rollwatch_tracker=debug")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("rollwatch under /usr/bin/time"),
        ],
        Watcher::Kubectl => (0..n)
            .map(|i| {
                procs::kubectl()
                    .args(["--context", BENCH_CONTEXT, "--cache-dir"])
                    .arg(kubectl_cache.as_deref().expect("a cache for kubectl"))
                    .args(["rollout", "status", &format!("deployment/d{i}"), "-n", &namespace, "--timeout", "20m"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("kubectl rollout status")
            })
            .collect(),
    };
    // rollwatch's stderr (its diagnostics, then /usr/bin/time's line), read as it comes so the
    // pipe never fills.
    let stderr = children.iter_mut().find_map(|c| c.stderr.take()).map(|mut pipe| {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let mut codes = Vec::new();
    loop {
        let mut still_running = Vec::new();
        for mut child in children.drain(..) {
            match child.try_wait().expect("try_wait") {
                Some(status) => {
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
        std::thread::sleep(CHECK_EVERY);
    }
    let seconds = started.elapsed().as_secs_f64();
    let stderr = stderr.map(|reader| reader.join().expect("stderr reader")).unwrap_or_default();
    // The Deployment controller's last status updates land just after the last pod is Ready;
    // the API server writes a request's record as the request ends, just after its client has
    // seen the response.
    std::thread::sleep(Duration::from_secs(3));
    let after = metrics::scrape();
    let until = Timestamp::now();
    let records = audit.since(log_start);
    // Deleted before the next run, so its garbage collection is not counted there.
    kubectl_ok(&["delete", "namespace", &namespace, "--timeout=5m"], None);
    if let Some(dir) = &kubectl_cache {
        let _ = std::fs::remove_dir_all(dir);
    }
    let ours: Vec<&Record> = records.iter().filter(|r| r.user == BENCH_USER).collect();
    let (warm_up, in_run): (Vec<&Record>, Vec<&Record>) = ours.into_iter().partition(|r| r.received < watching_from);
    let mut by_program: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for record in in_run {
        by_program.entry(record.program().to_owned()).or_default().push(record);
    }
    let own = watcher.program().and_then(|p| by_program.remove(p)).unwrap_or_default();
    let field = |key: &str| logged_value(&stderr, key);
    LoadSample {
        n,
        watcher,
        requests: ClientRequests::of(own),
        other_programs: by_program.into_iter().map(|(program, records)| (program, ClientRequests::of(records))).collect(),
        cache_warm_up: kubectl_cache.map(|_| ClientRequests::of(warm_up.into_iter().filter(|r| r.program() == "kubectl"))),
        all_clients: records.iter().filter(|r| r.received >= watching_from && r.received <= until).count(),
        bytes: after.bytes_sent() - before.bytes_sent(),
        seconds,
        rollwatch_rss_kib: field("rss_kib=").and_then(|v| v.parse().ok()),
        rollwatch_cpu_s: field("cpu_s=").map(|v| v.split('+').filter_map(|x| x.parse::<f64>().ok()).sum()),
        rollwatch_wall_s: field("wall_s=").and_then(|v| v.parse().ok()),
        rollwatch_engine: EngineCounts::from_log(&stderr),
        codes,
    }
}

/// The counts rollwatch's engine logs when tracking ends, with `RUST_LOG=rollwatch_tracker=debug`:
/// `... DEBUG rollwatch_tracker::engine: tracking ended events=58645 feeds=4 tracked=1000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineCounts {
    /// Object events its feeds delivered (list items included).
    pub events: u64,
    /// Objects it tracked.
    pub tracked: u64,
}

impl EngineCounts {
    fn from_log(stderr: &str) -> Option<EngineCounts> {
        let line = stderr.lines().rev().find(|l| l.contains("tracking ended"))?;
        let field = |key: &str| logged_value(line, key)?.parse().ok();
        Some(EngineCounts { events: field("events=")?, tracked: field("tracked=")? })
    }
}

/// The value of the last `KEY=value` token in `text` (`key` given with its `=`), as
/// /usr/bin/time's format and the engine's log line write them.
fn logged_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().rev().flat_map(str::split_whitespace).find_map(|token| token.strip_prefix(key))
}

/// Pods of the namespace the simulator has written Ready (read from its log: no API requests).
fn ready_pods(sim_log: &Path, namespace: &str) -> usize {
    let ready: std::collections::BTreeSet<String> = simlog::in_namespace(sim_log, namespace).into_iter().filter(|w| w.ready()).map(|w| w.pod).collect();
    ready.len()
}

/// A discovery cache of its own for the run's kubectl processes, filled by one kubectl (as the
/// benchmark's user, before the run) the way any earlier kubectl command fills ~/.kube/cache:
/// the kubectl processes start warm, as they do for someone who uses kubectl, and the report
/// shows what the filling cost.
fn warm_kubectl_cache(n: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rollwatch-bench-kubectl-cache-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().expect("a UTF-8 temporary directory");
    kubectl_ok(&["--context", BENCH_CONTEXT, "--cache-dir", dir_arg, "api-resources", "-o", "name"], None);
    dir
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_engines_counts_among_other_lines() {
        let stderr = "2026-11-23T07:24:50.1Z  WARN rollwatch_tracker::feed: watch restarted\n\
                      2026-11-23T07:24:55.627735Z DEBUG rollwatch_tracker::engine: tracking ended events=58645 feeds=4 tracked=1000\n\
                      rss_kib=197632 cpu_s=2.10+0.33 wall_s=106.21\n";
        assert_eq!(EngineCounts::from_log(stderr), Some(EngineCounts { events: 58645, tracked: 1000 }));
        assert_eq!(EngineCounts::from_log("rss_kib=1 cpu_s=0.01+0.00 wall_s=1.00\n"), None);
    }
}
