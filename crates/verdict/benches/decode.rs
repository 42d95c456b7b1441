//! Reading one watched object for a snapshot (issue #18, "decode once"): the JSON text the API
//! server sent, read as a value tree and then into the typed form the rules read (two passes, as
//! the tracker did), against [`Decoded::from_json`], which reads it straight into the typed form.
//! A criterion benchmark, not a test: `cargo bench -p rollwatch-verdict --bench decode`.
//!
//! The objects are those of `data/recorded.json` (see the throughput benchmark), one kind at a
//! time, as a LIST sends them (without `kind` and `apiVersion`). The API server sends each with
//! its `metadata.managedFields` too (the recording has them cut): the one-pass reading is given
//! [`MANAGED_FIELDS`] (two writers' entries, as a Pod of the test bed has them), which the typed
//! form reads; the two-pass one the object without them, as the tracker's value-tree reading
//! skipped them. After criterion's report, one `decode: ...` line per kind with both figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use rollwatch_verdict::{Decoded, Snapshot};
use serde_json::Value;

const RECORDED: &str = include_str!("data/recorded.json");

/// Two writers' field ownership, as the API server (v1.20) sends it with a Pod of the test bed.
const MANAGED_FIELDS: &str = r#"[
 {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-23T05:11:13Z", "fieldsType": "FieldsV1",
  "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
   "f:ownerReferences": {".": {}, "k:{\"uid\":\"cf0117c0-dbc3-42c3-8120-c7be24e7e3de\"}": {".": {}, "f:apiVersion": {}, "f:blockOwnerDeletion": {}, "f:controller": {}, "f:kind": {}, "f:name": {}, "f:uid": {}}}},
   "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
    "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}},
 {"manager": "rollwatch-sim", "operation": "Update", "apiVersion": "v1", "time": "2026-11-23T05:11:15Z", "fieldsType": "FieldsV1",
  "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"ContainersReady\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}},
    "k:{\"type\":\"Initialized\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}},
    "k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}},
   "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.0.0.1\"}": {".": {}, "f:ip": {}}}, "f:startTime": {}}}}
]"#;

fn main() {
    let recorded: Value = serde_json::from_str(RECORDED).expect("recorded.json is JSON");
    let items = recorded["items"].as_array().expect("a List");
    let mut criterion = Criterion::default().configure_from_args();
    let mut summary = Vec::new();
    for (api_version, kind) in [("v1", "Pod"), ("apps/v1", "ReplicaSet"), ("apps/v1", "Deployment"), ("v1", "Event")] {
        let managed_fields: Value = serde_json::from_str(MANAGED_FIELDS).expect("JSON");
        let listed: Vec<Value> = items
            .iter()
            .filter(|item| item["kind"] == kind)
            .map(|item| {
                let mut item = item.clone();
                let map = item.as_object_mut().expect("an object");
                map.remove("kind");
                map.remove("apiVersion");
                item
            })
            .collect();
        let texts: Vec<String> = listed.iter().map(Value::to_string).collect();
        let texts_as_sent: Vec<String> = listed
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item["metadata"]["managedFields"] = managed_fields.clone();
                item.to_string()
            })
            .collect();
        let two_passes = |text: &str| {
            let mut object: Value = serde_json::from_str(text).expect("JSON");
            let map = object.as_object_mut().expect("an object");
            map.insert("apiVersion".into(), api_version.into());
            map.insert("kind".into(), kind.into());
            let mut snapshot = Snapshot::new();
            snapshot.upsert(object).expect("a recorded object");
            snapshot
        };
        let one_pass = |text: &str| {
            let mut snapshot = Snapshot::new();
            snapshot.insert(Decoded::from_json(text, api_version, kind).expect("a recorded object"));
            snapshot
        };
        let mut group = criterion.benchmark_group(format!("decode/{kind}"));
        group.bench_function("value tree, then typed", |b| b.iter(|| texts.iter().for_each(|t| drop(black_box(two_passes(black_box(t)))))));
        group.bench_function("one pass", |b| b.iter(|| texts_as_sent.iter().for_each(|t| drop(black_box(one_pass(black_box(t)))))));
        group.finish();
        let per_object = |texts: &[String], read: &dyn Fn(&str) -> Snapshot| {
            let rounds = 2000;
            let started = Instant::now();
            for _ in 0..rounds {
                texts.iter().for_each(|t| drop(black_box(read(black_box(t)))));
            }
            started.elapsed() / (rounds * texts.len() as u32)
        };
        let bytes = texts_as_sent.iter().map(String::len).sum::<usize>() / texts.len();
        summary.push((kind, bytes, per_object(&texts, &two_passes), per_object(&texts_as_sent, &one_pass)));
    }
    criterion.final_summary();
    for (kind, bytes, two, one) in summary {
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "decode: {kind} ({bytes} bytes): value tree then typed {:.1} µs, one pass {:.1} µs ({:.2}×)",
            micros(two),
            micros(one),
            micros(two) / micros(one)
        );
    }
}
