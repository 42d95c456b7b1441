//! Arbitrary text through everything user input reaches in `rollwatch check` and `plan`, and in
//! `history --diff`: the manifest parser, the snapshot's typed parsing and indexes, a verdict for
//! every workload, the rollout estimate of every object (also as a live object is estimated
//! while tracking, and its pace at extreme times), and the template diff between consecutive
//! objects. Errors are fine; panics, hangs and runaway memory are not.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rollwatch_verdict::estimate::{Assumptions, estimate};
use rollwatch_verdict::history::diff::diff;
use rollwatch_verdict::{Policy, Snapshot, parse_documents};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(objects) = parse_documents(text, "fuzz") else {
        return;
    };
    for object in &objects {
        // `plan`'s default assumptions, and extreme ones with a DaemonSet's node count.
        let extreme = Assumptions {
            pod_start: Duration::MAX,
            pod_termination: Duration::MAX,
            nodes: Some(u32::MAX),
        };
        for assumptions in [
            Assumptions {
                nodes: Some(3),
                ..Assumptions::default()
            },
            extreme,
        ] {
            if let Ok(estimate) = estimate(object, &assumptions) {
                estimate.render_text();
                serde_json::to_string(&estimate).expect("an estimate serializes");
                for (elapsed, available) in [
                    (Duration::ZERO, 0),
                    (Duration::MAX, 1),
                    (Duration::from_secs(60), u32::MAX),
                ] {
                    let pace = estimate.pace(elapsed, available).after(Duration::MAX);
                    (pace.remaining(), pace.slower_than_expected());
                }
                estimate.timeout_advice(Duration::MAX);
            }
        }
    }
    for pair in objects.windows(2) {
        let template = |object: &serde_json::Value| {
            object
                .pointer("/spec/template")
                .cloned()
                .unwrap_or_else(|| object.clone())
        };
        serde_json::to_string(&diff(&template(&pair[0]), &template(&pair[1])))
            .expect("a diff serializes");
    }
    let mut snapshot = Snapshot::new();
    for object in objects {
        let _ = snapshot.upsert(object);
    }
    // The stable window and a clock late in jiff's range exercise the time arithmetic too.
    let policy = Policy {
        stable_for: Duration::from_secs(60),
        wait_for_terminating: true,
        ..Policy::default()
    };
    for now in [jiff::Timestamp::UNIX_EPOCH, jiff::Timestamp::MAX] {
        for workload in snapshot.workloads() {
            let verdict = snapshot.verdict(&workload, &policy, now);
            serde_json::to_string(&verdict).expect("a verdict serializes");
            snapshot.workloads_affected_by(&workload);
        }
    }
});
