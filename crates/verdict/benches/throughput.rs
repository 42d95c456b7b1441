//! Verdict throughput of the pure engine on recorded objects: verdicts per second, to show the
//! engine is never the bottleneck of a rollout watch (issue #6). A criterion benchmark, not a
//! test: `cargo bench -p rollwatch-verdict --bench throughput`.
//!
//! `data/recorded.json` is `kubectl get deploy,rs,pods,events -o json` of one namespace on the
//! local control plane: a Deployment that rolled out (3 pods) and one whose image cannot be
//! pulled. The objects are copied into more namespaces (uids made unique) to see whether the
//! cost of a verdict grows with the size of the snapshot.
//!
//! After criterion's own report, one `verdict throughput: ...` line per size, computed from the
//! estimate criterion saved: `scripts/bench` puts those lines into BENCHMARKS.md.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use criterion::{BenchmarkId, Criterion, Throughput};
use rollwatch_verdict::{Policy, Snapshot};
use serde_json::Value;

const RECORDED: &str = include_str!("data/recorded.json");
const GROUP: &str = "verdicts";
const FUNCTION: &str = "namespaces";

/// What one benchmark covered, for its summary line.
struct Size {
    copies: usize,
    objects: usize,
    workloads: usize,
}

fn main() {
    let recorded: Value = serde_json::from_str(RECORDED).expect("recorded.json is JSON");
    let items = recorded["items"].as_array().expect("a List");
    let now = jiff::Timestamp::now();
    let policy = Policy::default();
    let results = results_directory();
    let started = SystemTime::now();
    let mut criterion = Criterion::default().output_directory(&results).configure_from_args();
    let mut group = criterion.benchmark_group(GROUP);
    let mut sizes = Vec::new();
    for copies in [1, 100, 1000] {
        let snapshot = snapshot_of(items, copies);
        let workloads = snapshot.workloads();
        // One iteration is a verdict for every workload: criterion reports verdicts/s.
        group.throughput(Throughput::Elements(workloads.len() as u64));
        group.bench_function(BenchmarkId::new(FUNCTION, copies), |bencher| {
            bencher.iter(|| {
                for workload in &workloads {
                    black_box(snapshot.verdict(black_box(workload), &policy, now));
                }
            })
        });
        sizes.push(Size { copies, objects: snapshot.len(), workloads: workloads.len() });
    }
    group.finish();
    criterion.final_summary();

    for size in sizes {
        let estimates = results.join(GROUP).join(FUNCTION).join(size.copies.to_string()).join("new/estimates.json");
        // Sizes left out by a filter, and `--test` runs, save no estimate in this run.
        let Some(nanos_per_iteration) = estimate_saved_since(&estimates, started) else { continue };
        let per_second = size.workloads as f64 * 1e9 / nanos_per_iteration;
        println!(
            "verdict throughput: {} namespace(s), {} objects, {} workloads: {per_second:.0} verdicts/s ({:.1} µs per verdict)",
            size.copies,
            size.objects,
            size.workloads,
            1e6 / per_second
        );
    }
}

/// Where criterion saves its results, set explicitly so the summary reads the same files:
/// `$CRITERION_HOME` as criterion itself honours it, else `criterion` in cargo's target directory
/// (the parent of `CARGO_TARGET_TMPDIR`, `target/tmp`).
fn results_directory() -> PathBuf {
    std::env::var_os("CRITERION_HOME").map(PathBuf::from).unwrap_or_else(|| {
        let target_tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        target_tmp.parent().expect("CARGO_TARGET_TMPDIR is inside the target directory").join("criterion")
    })
}

/// Criterion's typical time of one iteration in nanoseconds (the slope of its linear
/// regression, else the mean: the figure its own `thrpt` line uses), if this run saved it.
fn estimate_saved_since(estimates: &Path, started: SystemTime) -> Option<f64> {
    let saved = std::fs::metadata(estimates).and_then(|metadata| metadata.modified()).ok()?;
    if saved < started {
        return None;
    }
    let text = std::fs::read_to_string(estimates).unwrap_or_else(|e| panic!("{}: {e}", estimates.display()));
    let estimates_json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", estimates.display()));
    let typical = if estimates_json["slope"].is_null() { &estimates_json["mean"] } else { &estimates_json["slope"] };
    let nanos = typical["point_estimate"].as_f64();
    Some(nanos.unwrap_or_else(|| panic!("{}: no point_estimate in {typical}", estimates.display())))
}

/// The recorded objects copied into `copies` namespaces, each copy with its own uids so owner
/// references stay within the copy.
fn snapshot_of(items: &[Value], copies: usize) -> Snapshot {
    let text = serde_json::to_string(items).expect("serialise");
    let uids: Vec<&str> = items.iter().filter_map(|o| o["metadata"]["uid"].as_str()).collect();
    let mut snapshot = Snapshot::new();
    for copy in 0..copies {
        let mut copied = text.replace("\"namespace\":\"bench-rec\"", &format!("\"namespace\":\"bench-rec-{copy}\""));
        for uid in &uids {
            copied = copied.replace(uid, &format!("{uid}-{copy}"));
        }
        let objects: Vec<Value> = serde_json::from_str(&copied).expect("copied objects");
        for object in objects {
            snapshot.upsert(object).expect("a recorded object");
        }
    }
    snapshot
}
