//! Records the watch events of a real rollout on the test bed, for the engine replay benchmark
//! (`crates/tracker/benches/replay.rs`, issue #18):
//!
//!   ROLLWATCH_TEST_KUBECONFIG=... target/debug/record OUT.jsonl
//!
//! A Deployment of 2 replicas is rolled out and settled; then its Deployment, ReplicaSets, Pods and
//! Events are listed and watched (`kubectl get --watch-only --output-watch-events`, one watch per
//! kind) while `kubectl set image` rolls it out again and `kubectl rollout status` follows it. The Nodes
//! are listed too. OUT gets one watch event a line — `{"type": "LISTED", "object": ...}` for the
//! lists, then ADDED, MODIFIED and DELETED as the API server sent them — in the order of their
//! resourceVersion (etcd's revision, one order across kinds), without managedFields, which no
//! rule reads.

use std::fs::File;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rollwatch_testbed::{TestNamespace, deployment, kubeconfig, kubectl_global};
use serde_json::{Value, json};

const KINDS: &[&str] = &["deployments.apps", "replicasets.apps", "pods", "events"];

fn main() {
    let out = std::env::args().nth(1).expect("usage: record OUT.jsonl");
    let namespace = TestNamespace::new("record");
    namespace.apply(&deployment("web", 2, "shop/web:1", "", "", "")).ok();
    namespace.kubectl(&["rollout", "status", "deployment/web", "--timeout=2m"]).ok();

    let mut lines: Vec<(u64, Value)> = Vec::new();
    let lists = namespace.kubectl(&["get", &KINDS.join(","), "-o", "json"]).ok().json();
    let nodes = kubectl_global(&["get", "nodes", "-o", "json"]).ok().json();
    for item in lists["items"].as_array().into_iter().chain(nodes["items"].as_array()).flatten() {
        lines.push(line("LISTED", item.clone()));
    }
    let directory = tempfile::tempdir().expect("a temporary directory");
    let watches: Vec<(Child, std::path::PathBuf)> = KINDS
        .iter()
        .map(|kind| {
            let path = directory.path().join(kind);
            let output = File::create(&path).expect("a watch output file");
            let child = Command::new("kubectl")
                .env("KUBECONFIG", kubeconfig())
                .args(["-n", &namespace.name, "get", kind, "--watch-only", "--output-watch-events", "-o", "json"])
                .stdout(output)
                .stderr(Stdio::inherit())
                .spawn()
                .expect("kubectl runs");
            (child, path)
        })
        .collect();
    // The watches are established before the change they are to see.
    std::thread::sleep(Duration::from_secs(2));
    namespace.kubectl(&["set", "image", "deployment/web", "app=shop/web:2"]).ok();
    namespace.kubectl(&["rollout", "status", "deployment/web", "--timeout=2m"]).ok();
    // The last status writes and events after kubectl's verdict: the old pods' end.
    std::thread::sleep(Duration::from_secs(5));
    for (mut child, path) in watches {
        child.kill().expect("the watch stops");
        child.wait().expect("the watch is reaped");
        let text = std::fs::read_to_string(&path).expect("the watch output");
        for event in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
            let event = event.expect("kubectl writes JSON");
            let kind = event["type"].as_str().expect("a watch event type").to_string();
            lines.push(line(&kind, event["object"].clone()));
        }
    }
    lines.sort_by_key(|(revision, _)| *revision);
    let mut file = File::create(&out).expect("the output file");
    for (_, event) in &lines {
        writeln!(file, "{event}").expect("the output is written");
    }
    eprintln!("record: {} events written to {out}", lines.len());
}

/// `{"type": .., "object": ..}` without the object's managedFields, and its resourceVersion.
fn line(kind: &str, mut object: Value) -> (u64, Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    let revision = object.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|v| v.parse().ok()).unwrap_or(0);
    (revision, json!({"type": kind, "object": object}))
}
