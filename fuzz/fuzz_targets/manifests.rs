//! Arbitrary text through everything user input reaches in `rollwatch check`: the manifest
//! parser, the snapshot's typed parsing and indexes, and a verdict for every workload. Errors
//! are fine; panics, hangs and runaway memory are not.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rollwatch_verdict::{Policy, Snapshot, parse_documents};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(objects) = parse_documents(text, "fuzz") else { return };
    let mut snapshot = Snapshot::new();
    for object in objects {
        let _ = snapshot.upsert(object);
    }
    // The stable window and a clock late in jiff's range exercise the time arithmetic too.
    let policy = Policy { stable_for: Some(Duration::from_secs(60)), ..Policy::default() };
    for now in [jiff::Timestamp::UNIX_EPOCH, jiff::Timestamp::MAX] {
        for workload in snapshot.workloads() {
            let verdict = snapshot.verdict(&workload, &policy, now);
            serde_json::to_string(&verdict).expect("a verdict serializes");
            snapshot.workloads_affected_by(&workload);
        }
    }
});
