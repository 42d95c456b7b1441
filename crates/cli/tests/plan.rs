//! `rollwatch plan` end to end: the built binary on fixture manifests, its output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn rollwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).output().expect("run rollwatch")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn workloads() -> String {
    fixture("plan-workloads.yaml").display().to_string()
}

#[test]
fn prints_each_workloads_waves_and_skips_other_objects() {
    let output = rollwatch(&["plan", "-f", &workloads(), "--nodes", "3"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // web: ready after 1 s start + 10 s delay + 5 s for the second success, available after
    // minReadySeconds 5 more; agent: ready 1 + 4 s after creation, each wave 1 s to terminate.
    assert_eq!(
        text(&output.stdout),
        "Deployment/web: RollingUpdate maxSurge=8 maxUnavailable=7, 30 pod(s) to update in 2 wave(s), at least 42s\n\
         \x20 per pod: ready after 16s, available after 21s\n\
         \x20 waves 1-2: 15 new pod(s) each, at 0s and every 21s after, the last available at 42s\n\
         StatefulSet/db: strategy OnDelete updates pods only when they are deleted by hand\n\
         DaemonSet/agent: RollingUpdate maxUnavailable=2 of 3 node(s), 3 pod(s) to update in 2 wave(s), at least 12s\n\
         \x20 per pod: ready after 5s, available after 5s\n\
         \x20 wave 1: 2 new pod(s) at 1s, available at 6s\n\
         \x20 wave 2: 1 new pod(s) at 7s, available at 12s\n"
    );
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn a_short_timeout_is_a_warning_not_a_failure() {
    let output = rollwatch(&["plan", "-f", &workloads(), "--nodes", "3", "--timeout", "30s", "-o", "json"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "warning: Deployment/web: timeout 30s is shorter than the expected minimum rollout time 42s\n");
    let lines: Vec<Value> = text(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary: Vec<(&str, bool, Option<bool>)> = lines
        .iter()
        .map(|line| (line["workload"].as_str().unwrap(), line["estimable"].as_bool().unwrap(), line["timeout_shorter_than_estimate"].as_bool()))
        .collect();
    assert_eq!(summary, [("Deployment/web", true, Some(true)), ("StatefulSet/db", false, None), ("DaemonSet/agent", true, Some(false))]);
    assert_eq!(lines[0]["total_seconds"], 42.0);
    // Alike waves are one entry with their count.
    assert_eq!(lines[0]["waves"], serde_json::json!([{"pods": 15, "starts_at_seconds": 0.0, "available_at_seconds": 21.0, "count": 2, "every_seconds": 21.0}]));
}

#[test]
fn assumptions_can_be_given() {
    let output = rollwatch(&["plan", "-f", &workloads(), "--nodes", "1", "--pod-start", "3s", "--pod-termination", "2s", "-o", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let agent: Value = serde_json::from_str(text(&output.stdout).lines().last().unwrap()).unwrap();
    // One node: terminate 2 s, start 3 s, ready 4 s later.
    assert_eq!(agent["total_seconds"], 9.0);
}

#[test]
fn bad_input_exits_2_naming_file_object_and_field() {
    let file = workloads();
    let output = rollwatch(&["plan", "-f", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!("error: {file}: document 4: DaemonSet/agent: a DaemonSet estimate needs the number of nodes it runs on: pass --nodes N or --live\n")
    );
    assert_eq!(text(&output.stdout), "", "nothing is printed before the whole input is checked");

    let broken = fixture("plan-bad-surge.yaml").display().to_string();
    let output = rollwatch(&["plan", "-f", &broken]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!("error: {broken}: document 1: Deployment/web: field spec.strategy.rollingUpdate.maxSurge: expected an integer or a percentage like \"25%\"\n")
    );

    let nothing = fixture("no-kind.yaml").display().to_string();
    assert_eq!(rollwatch(&["plan", "-f", &nothing]).status.code(), Some(2));
    let service_only = fixture("plan-service.yaml").display().to_string();
    let output = rollwatch(&["plan", "-f", &service_only]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stderr), format!("error: {service_only}: no Deployment, StatefulSet or DaemonSet to plan\n"));
}

#[test]
fn names_from_manifests_are_shown_escaped() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plan-hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("web.json");
    let name = "web\x1b]0;pwned-title\x07\x1b[2J\n::error::pwned";
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "web"}]}}}
    });
    std::fs::write(&manifest, deployment.to_string()).unwrap();
    let output = rollwatch(&["plan", "-f", manifest.to_str().unwrap(), "--timeout", "1s"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let shown = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown}");
    assert!(shown.lines().all(|line| !line.trim_start().starts_with("::")), "{shown}");
    assert!(text(&output.stdout).starts_with(r"Deployment/web\x1b]0;pwned-title\x07\x1b[2J\n::error::pwned: RollingUpdate"), "{shown}");
    assert!(text(&output.stderr).starts_with(r"warning: Deployment/web\x1b]0;pwned-title\x07\x1b[2J\n::error::pwned: timeout 1s"), "{shown}");

    let json = rollwatch(&["plan", "-f", manifest.to_str().unwrap(), "-o", "json"]);
    let line: Value = serde_json::from_slice(&json.stdout).expect("one JSON line");
    assert_eq!(line["workload"], format!("Deployment/{name}"), "the name exactly as written");
}

/// Writes `manifest` to a file of its own for one test, deleted when dropped.
fn manifest_file(name: &str, manifest: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().prefix(&format!("rollwatch-plan-{name}-")).suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), manifest).unwrap();
    file
}

fn huge_deployment(replicas: &str, probe: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: huge}}\nspec:\n  replicas: {replicas}\n  \
         strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 0, maxUnavailable: 1}}}}\n  \
         template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n{probe}"
    )
}

#[test]
fn the_largest_values_the_api_takes_are_estimated_without_blowing_up() {
    // One pod at a time for 2^31 - 1 replicas (this allocated gigabytes per wave), with a
    // readiness probe at the int32 limit (this panicked adding durations).
    let probe = "        readinessProbe: {exec: {command: [\"true\"]}, periodSeconds: 2147483647, successThreshold: 2147483647}\n";
    let manifest = manifest_file("huge", &huge_deployment("2147483647", probe));
    let file = manifest.path().display().to_string();
    let output = rollwatch(&["plan", "-f", &file, "--timeout", "5m"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("Deployment/huge: RollingUpdate maxSurge=0 maxUnavailable=1, 2147483647 pod(s) to update in 2147483647 wave(s)"), "{stdout}");
    assert!(stdout.contains("  waves 1-2147483647: 1 new pod(s) each, at 0s and every "), "{stdout}");
    assert!(text(&output.stderr).starts_with("warning: Deployment/huge: timeout 300s is shorter"), "{}", text(&output.stderr));
}

#[test]
fn values_beyond_int32_exit_2_naming_file_object_and_field() {
    // They used to wrap into "0 pod(s) to update in 0 wave(s)".
    let probe = "        readinessProbe: {exec: {command: [\"true\"]}, periodSeconds: 4294967296}\n";
    for (name, manifest, field) in [
        ("replicas", huge_deployment("4294967295", ""), "spec.replicas: 4294967295"),
        ("period", huge_deployment("3", probe), "spec.template.spec.containers.0.readinessProbe.periodSeconds: 4294967296"),
    ] {
        let written = manifest_file(name, &manifest);
        let file = written.path().display().to_string();
        let output = rollwatch(&["plan", "-f", &file]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
        assert_eq!(
            text(&output.stderr),
            format!("error: {file}: document 1: Deployment/huge: field {field} is out of range: at most 2147483647 (an int32, as the API server requires)\n")
        );
    }
}

#[test]
fn every_duration_flag_refuses_values_beyond_kubectls_range() {
    for flag in ["--timeout", "--pod-start", "--pod-termination"] {
        let output = rollwatch(&["plan", "-f", &workloads(), "--nodes", "3", flag, "18446744073709551615"]);
        assert_eq!(output.status.code(), Some(2), "{flag}");
        assert!(text(&output.stderr).contains("is out of range: at most about 292 years"), "{flag}: {}", text(&output.stderr));
    }
}
