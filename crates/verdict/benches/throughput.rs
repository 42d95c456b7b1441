//! Verdict throughput of the pure engine on recorded objects: verdicts per second, to show the
//! engine is never the bottleneck of a rollout watch (issue #6). A benchmark, not a test:
//! `cargo bench -p rollwatch-verdict --bench throughput` prints the figures, asserts nothing.
//!
//! `data/recorded.json` is `kubectl get deploy,rs,pods,events -o json` of one namespace on the
//! local control plane: a Deployment that rolled out (3 pods) and one whose image cannot be
//! pulled. The objects are copied into more namespaces (uids made unique) to see whether the
//! cost of a verdict grows with the size of the snapshot.
//!
//! criterion (the preferred crate) is not in this machine's cargo cache and would add minutes of
//! compilation on 2 cores; the loop below is enough for a figure that is orders of magnitude
//! away from mattering.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rollwatch_verdict::{Policy, Snapshot};
use serde_json::Value;

const RECORDED: &str = include_str!("data/recorded.json");
const MEASURE_FOR: Duration = Duration::from_secs(2);

fn main() {
    let recorded: Value = serde_json::from_str(RECORDED).expect("recorded.json is JSON");
    let items = recorded["items"].as_array().expect("a List");
    let now = jiff::Timestamp::now();
    for copies in [1, 100, 1000] {
        let snapshot = snapshot_of(items, copies);
        let workloads = snapshot.workloads();
        let policy = Policy::default();
        let started = Instant::now();
        let mut verdicts = 0u64;
        while started.elapsed() < MEASURE_FOR {
            for workload in &workloads {
                black_box(snapshot.verdict(black_box(workload), &policy, now));
                verdicts += 1;
            }
        }
        let per_second = verdicts as f64 / started.elapsed().as_secs_f64();
        println!(
            "verdict throughput: {copies} namespace(s), {} objects, {} workloads: {per_second:.0} verdicts/s ({:.1} µs per verdict)",
            snapshot.len(),
            workloads.len(),
            1e6 / per_second
        );
    }
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
