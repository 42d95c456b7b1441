//! `fidelity`: the simulator against a real kubelet (issue #12). Runs every scenario of
//! `crates/testbed/scenarios/` on the simulator's nodes and on a real node at once, records what a
//! pod watch sees (each pod's distinct statuses) and the Events about the pods, with rollwatch's
//! verdict and detection latency, and writes FIDELITY.md. A report, not a test: nothing here
//! asserts; the differences it finds are listed, each with its explanation or as not explained.
//!
//! Run it through `scripts/fidelity`, which builds what it needs and starts (or reuses) an instance
//! with a real node. Environment: `ROLLWATCH_TEST_KUBECONFIG` (the instance's kubeconfig),
//! `ROLLWATCH_BIN` (the rollwatch binary), `FIDELITY_ROLLWATCH` (what that binary is, for the
//! report's header), `FIDELITY` (the report file), `FIDELITY_OBSERVE` (seconds each pod watch runs
//! at least, default 60).

mod report;

use std::io::BufReader;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rollwatch_testbed::{TestNamespace, World, kubeconfig, placed, repo_root, scenario};
use serde_json::Value;

/// rollwatch's tolerances off, as BENCHMARKS.md measures detection: the latency of detection, not
/// of a grace period. Except two, which a real node on a loaded machine needs: a readiness grace
/// of 15 s (at 0 a real container's first probe, before its server listens or while an OOM kill is
/// under way, fails the rollout; at 5 s a loaded real node's probes once outlasted it in the
/// rolling update) and the default settle window of 10 s (with 2 s a loaded real node's first
/// liveness kill came after the pod had settled).
const NO_TOLERANCE: &[&str] =
    &["--waiting-grace", "0s", "--readiness-grace", "15s", "--allowed-restarts", "0", "--unschedulable-grace", "0s", "--timeout", "3m"];

/// The scenarios applied a second time with the image's second tag (as tests/real_nodes.rs does).
const UPDATES: &[&str] = &["rolling-update.yaml", "statefulset-partition.yaml", "daemonset-update.yaml"];

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

/// A pod as the watch delivered it, with the Unix millisecond it arrived.
pub struct Seen {
    pub at_ms: i64,
    pub pod: Value,
}

/// What rollwatch said about one apply: its result, the first failed object's first reason code,
/// and when it exited.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub result: String,
    pub code: Option<String>,
    pub exited_ms: i64,
}

/// One scenario in one world.
pub struct WorldRun {
    pub world: World,
    pub namespace: String,
    /// The Unix millisecond of the scenario's start: when its first apply began.
    pub started_ms: i64,
    pub seen: Vec<Seen>,
    pub events: Vec<Value>,
    pub verdicts: Vec<Verdict>,
}

/// A `kubectl get pods -w -o json` of one namespace, collecting what it delivers.
struct PodWatch {
    child: std::process::Child,
    seen: Arc<Mutex<Vec<Seen>>>,
    reader: std::thread::JoinHandle<()>,
}

impl PodWatch {
    fn start(namespace: &str) -> PodWatch {
        let mut child = Command::new("kubectl")
            .env("KUBECONFIG", kubeconfig())
            .args(["get", "pods", "-n", namespace, "-w", "-o", "json", "--output-watch-events"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubectl get pods -w");
        let stdout = child.stdout.take().expect("stdout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let collected = seen.clone();
        let reader = std::thread::spawn(move || {
            for event in serde_json::Deserializer::from_reader(BufReader::new(stdout)).into_iter::<Value>() {
                let Ok(event) = event else { break };
                if event["type"] != "DELETED" {
                    collected.lock().unwrap().push(Seen { at_ms: now_ms(), pod: event["object"].clone() });
                }
            }
        });
        PodWatch { child, seen, reader }
    }

    fn stop(mut self) -> Vec<Seen> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.reader.join();
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// `rollwatch apply -f - -o json` of `manifest` in `namespace`, read from its summary.
fn apply(namespace: &str, manifest: &str) -> Verdict {
    use std::io::Write;
    let bin = std::env::var_os("ROLLWATCH_BIN").expect("ROLLWATCH_BIN (scripts/fidelity sets it)");
    let mut child = Command::new(bin)
        .env("KUBECONFIG", kubeconfig())
        .args(["-n", namespace, "apply", "-f", "-", "-o", "json"])
        .args(NO_TOLERANCE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("rollwatch runs");
    child.stdin.take().expect("stdin").write_all(manifest.as_bytes()).expect("write the manifest");
    let output = child.wait_with_output().expect("rollwatch ends");
    let exited_ms = now_ms();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().rev().find_map(|line| serde_json::from_str::<Value>(line).ok().filter(|v| v["event"] == "summary"));
    let Some(summary) = summary else {
        return Verdict { result: format!("no summary (exit {:?})", output.status.code()), code: None, exited_ms };
    };
    let code = summary["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["state"] == "Failed")
        .and_then(|o| o["explanation"]["details"][0]["reason"]["code"].as_str())
        .map(str::to_owned);
    Verdict { result: summary["result"].as_str().unwrap_or("?").to_owned(), code, exited_ms }
}

/// Runs `file` in `world`: the pod watch first, then rollwatch's apply (twice for an update),
/// the watch kept for at least `observe` from the start, then the Events read.
fn run(file: &str, world: World, observe: Duration) -> WorldRun {
    let stem = file.trim_end_matches(".yaml");
    let ns = TestNamespace::new(&format!("fid-{stem}-{}", world.label()));
    let watch = PodWatch::start(&ns.name);
    // Let the watch start before the pods exist.
    std::thread::sleep(Duration::from_millis(1500));
    let started = std::time::Instant::now();
    let started_ms = now_ms();
    let mut verdicts = vec![apply(&ns.name, &placed(&scenario(file, false), world))];
    if UPDATES.contains(&file) {
        verdicts.push(apply(&ns.name, &placed(&scenario(file, true), world)));
    }
    let left = observe.saturating_sub(started.elapsed()).max(Duration::from_secs(2));
    std::thread::sleep(left);
    let seen = watch.stop();
    let events = ns.get("events")["items"].as_array().cloned().unwrap_or_default();
    eprintln!("fidelity: {file} ({}): {verdicts:?}, {} pod statuses, {} events", world.label(), seen.len(), events.len());
    WorldRun { world, namespace: ns.name.clone(), started_ms, seen, events, verdicts }
}

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("FIDELITY").expect("FIDELITY (scripts/fidelity sets it)"));
    let observe = Duration::from_secs(std::env::var("FIDELITY_OBSERVE").ok().and_then(|s| s.parse().ok()).unwrap_or(60));
    let dir = repo_root().join("crates/testbed/scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("the scenarios directory")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    let started = std::time::Instant::now();
    // Every scenario in both worlds at once: a run takes the observation time, not 28 of them.
    let runs: Vec<(String, WorldRun, WorldRun)> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|file| {
                let real = scope.spawn(move || run(file, World::Real, observe));
                let simulated = scope.spawn(move || run(file, World::Simulated, observe));
                (file, real, simulated)
            })
            .collect();
        handles.into_iter().map(|(file, real, simulated)| (file.clone(), real.join().expect("real run"), simulated.join().expect("simulated run"))).collect()
    });
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let text = report::render(&runs, minutes, NO_TOLERANCE);
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    eprintln!("fidelity: wrote {}", out.display());
}
