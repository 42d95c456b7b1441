//! `rollwatch check` end to end: the built binary on fixture files (tests/fixtures), its output
//! and its exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

/// Five minutes after the failing pod was created: past the default 60 s waiting grace.
const LATE: &str = "2026-03-02T10:10:00Z";
/// Thirty seconds after it: still within the grace.
const EARLY: &str = "2026-03-02T10:05:30Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn rollwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).output().expect("run rollwatch")
}

fn rollwatch_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollwatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rollwatch");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn path(name: &str) -> String {
    fixture(name).display().to_string()
}

#[test]
fn image_pull_failure_on_the_new_replica_set_fails_naming_pod_and_container() {
    let output = rollwatch(&["check", "-f", &path("web-image-pull.json"), "--now", LATE]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(
            r#"deployment/web (shop): failed: deployment "web" failed: pod/web-7f6b9c5d4-h7j2k (app): ImagePullBackOff: Back-off pulling image "shop/web:1.5.0": Failed to pull image"#
        ),
        "{text}"
    );
    assert!(lines[0].ends_with(r#"failed to pull and unpack image "docker.io/shop/web:1.5.0": not found"#), "{text}");
    assert!(lines[1].starts_with("  - ImagePullBackOff: pod/web-7f6b9c5d4-h7j2k (container app): "), "{text}");
}

#[test]
fn the_same_failure_within_its_grace_is_not_ready_yet() {
    let early = rollwatch(&["check", "-f", &path("web-image-pull.json"), "--now", EARLY]);
    assert_eq!(early.status.code(), Some(3), "stderr: {}", stderr(&early));
    assert!(stdout(&early).starts_with(
        "deployment/web (shop): progressing: Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...\n  - ImagePullBackOff: "
    ));
    let patient = rollwatch(&["check", "-f", &path("web-image-pull.json"), "--now", LATE, "--waiting-grace", "1h"]);
    assert_eq!(patient.status.code(), Some(3), "{}", stdout(&patient));
}

#[test]
fn a_finished_rollout_is_ready() {
    let output = rollwatch(&["check", "-f", &path("web-ready.yaml"), "--now", LATE]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "deployment/web (shop): ready: deployment \"web\" successfully rolled out\n\
         job/migrate (shop): ready: job \"migrate\" completed: 1 of 1 succeeded\n"
    );
    // Pods ready since 09:00: stable for an hour by 10:10, not for two.
    let stable = rollwatch(&["check", "-f", &path("web-ready.yaml"), "--now", LATE, "--stable-for", "1h"]);
    assert_eq!(stable.status.code(), Some(0), "{}", stdout(&stable));
    let unstable = rollwatch(&["check", "-f", &path("web-ready.yaml"), "--now", LATE, "--stable-for", "2h"]);
    assert_eq!(unstable.status.code(), Some(3), "{}", stdout(&unstable));
    assert!(stdout(&unstable).contains(r#"Waiting for deployment "web" to be stable: 0 of 2 pods ready for 2h0m..."#), "{}", stdout(&unstable));
}

#[test]
fn the_settle_window_runs_from_the_pods_ready_transitions_up_to_now() {
    // The second pod turned Ready at 09:00:31: 5 s into its 10 s window at 09:00:36.
    let settling = rollwatch(&["check", "-f", &path("web-ready.yaml"), "--now", "2026-03-02T09:00:36Z"]);
    assert_eq!(settling.status.code(), Some(3), "not ready yet:\n{}", stdout(&settling));
    assert!(
        stdout(&settling)
            .starts_with("deployment/web (shop): progressing: Waiting for deployment \"web\" to be stable: 1 of 2 pods ready for 10s... (settling: 5s left)\n"),
        "{}",
        stdout(&settling)
    );
    let json = rollwatch(&["check", "-o", "json", "-f", &path("web-ready.yaml"), "--now", "2026-03-02T09:00:36Z"]);
    let line: Value = serde_json::from_str(stdout(&json).lines().next().unwrap()).unwrap();
    assert_eq!(line["settling"], serde_json::json!({"until": "2026-03-02T09:00:41Z", "seconds_left": 5}));
    let settled = rollwatch(&["check", "-o", "json", "-f", &path("web-ready.yaml"), "--now", "2026-03-02T09:00:41Z"]);
    assert_eq!(settled.status.code(), Some(0), "{}", stdout(&settled));
    let line: Value = serde_json::from_str(stdout(&settled).lines().next().unwrap()).unwrap();
    assert_eq!(line["settling"], Value::Null);
    // `--stable-for 0`: kubectl's instant verdict.
    let instant = rollwatch(&["check", "-f", &path("web-ready.yaml"), "--now", "2026-03-02T09:00:36Z", "--stable-for", "0"]);
    assert_eq!(instant.status.code(), Some(0), "{}", stdout(&instant));
}

#[test]
fn a_restart_right_after_ready_fails_by_default_and_is_tolerated_with_a_zero_window() {
    let fixture = path("web-crashed-after-ready.yaml");
    let failed = rollwatch(&["check", "-f", &fixture, "--now", "2026-03-02T11:00:06Z"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    let text = stdout(&failed);
    assert!(
        text.starts_with(r#"deployment/web (shop): failed: deployment "web" failed: pod/web-5f7a1-x9z8w (app): NonZeroExit: container app exited with code 3: Error (restarted once); its pod had been ready for less than the 10s settle window"#),
        "{text}"
    );
    assert!(text.contains("  - NonZeroExit: pod/web-5f7a1-x9z8w (container app, exit code 3): "), "{text}");
    let instant = rollwatch(&["check", "-f", &fixture, "--now", "2026-03-02T11:00:06Z", "--stable-for", "0"]);
    assert_eq!(instant.status.code(), Some(0), "one restart is within --allowed-restarts:\n{}", stdout(&instant));
}

#[test]
fn json_output_is_one_object_per_workload() {
    let output = rollwatch(&["check", "-o", "json", "-f", &path("web-ready.yaml"), "--now", LATE]);
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<Value> = stdout(&output).lines().map(|line| serde_json::from_str(line).expect("a JSON object per line")).collect();
    let names: Vec<(&str, &str, &str)> =
        lines.iter().map(|l| (l["kind"].as_str().unwrap(), l["name"].as_str().unwrap(), l["state"].as_str().unwrap())).collect();
    assert_eq!(names, [("Deployment", "web", "Ready"), ("Job", "migrate", "Ready")]);
    assert_eq!(lines[0]["reasons"], serde_json::json!([]));
    assert_eq!(lines[1]["progress"], Value::Null, "a Job has no replica figures");

    let failing = rollwatch(&["check", "-o", "json", "-f", &path("web-image-pull.json"), "--now", LATE]);
    let line: Value = serde_json::from_str(stdout(&failing).trim()).unwrap();
    assert_eq!(line["namespace"], "shop");
    assert_eq!(line["state"], "Failed");
    assert!(line["message"].as_str().unwrap().starts_with(r#"deployment "web" failed: pod/web-7f6b9c5d4-h7j2k (app)"#));
    assert_eq!(line["reasons"][0]["code"], "ImagePullBackOff");
    assert_eq!(line["reasons"][0]["container"], "app");
    assert_eq!(line["reasons"][0]["object"], serde_json::json!({"kind": "Pod", "namespace": "shop", "name": "web-7f6b9c5d4-h7j2k"}));
    assert_eq!(line["progress"], serde_json::json!({"desired": 3, "updated": 1, "ready": 3, "available": 3, "old_pending_termination": 3}));
}

#[test]
fn bad_files_exit_2_naming_file_and_field() {
    let cases = [
        ("bad-yaml.yaml", "bad-yaml.yaml: document 1: did not find expected ',' or '}' at line 4 column 5"),
        ("no-kind.yaml", "no-kind.yaml: document 2, field kind: missing: every object needs a kind"),
        (
            "status-wrong-type.json",
            r#"status-wrong-type.json: document 1, items[0]: deployment/web: field status.replicas: invalid type: string "two", expected i32"#,
        ),
        ("unknown-kind.yaml", r#"unknown-kind.yaml: document 1: deploymnet/web: field kind: unknown kind "Deploymnet" for apiVersion apps/v1"#),
    ];
    for (file, expected) in cases {
        let output = rollwatch(&["check", "-f", &path(file)]);
        assert_eq!(output.status.code(), Some(2), "{file}");
        assert!(stdout(&output).is_empty(), "{file}: nothing judged from a bad input");
        let error = stderr(&output);
        assert!(error.starts_with("error: ") && error.contains(expected), "{file}: {error}");
    }
    let missing = rollwatch(&["check", "-f", "/nonexistent/dump.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).starts_with("error: /nonexistent/dump.json: cannot read: "), "{}", stderr(&missing));
    let bad_flag = rollwatch(&["check", "-f", &path("web-ready.yaml"), "--waiting-grace", "soon"]);
    assert_eq!(bad_flag.status.code(), Some(2));
    assert!(stderr(&bad_flag).contains("invalid value 'soon' for '--waiting-grace <DURATION>'"), "{}", stderr(&bad_flag));
    let empty = rollwatch_with_stdin(&["check", "-f", "-"], "# nothing here\n");
    assert_eq!(empty.status.code(), Some(2));
    assert_eq!(stderr(&empty), "error: -: no objects to check\n");
}

#[test]
fn reads_stdin_directories_and_namespaces() {
    let from_stdin = rollwatch_with_stdin(&["check", "-f", "-", "--now", LATE], &std::fs::read_to_string(fixture("web-ready.yaml")).unwrap());
    assert_eq!(from_stdin.status.code(), Some(0));
    assert_eq!(stdout(&from_stdin).lines().count(), 2);
    let from_stdin_error = rollwatch_with_stdin(&["check", "-f", "-"], "kind: [\n");
    assert!(stderr(&from_stdin_error).starts_with("error: -: document 1: "), "{}", stderr(&from_stdin_error));

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check-dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::copy(fixture("web-ready.yaml"), dir.join("web.yaml")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
    std::fs::write(
        dir.join("nested/front.json"),
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": "edge"}, "spec": {"type": "LoadBalancer"}}"#,
    )
    .unwrap();
    let dir_arg = dir.display().to_string();
    let flat = rollwatch(&["check", "-f", &dir_arg, "--now", LATE]);
    assert_eq!((flat.status.code(), stdout(&flat).lines().count()), (Some(0), 2), "{}", stdout(&flat));
    let recursive = rollwatch(&["check", "-R", "-f", &dir_arg, "--now", LATE]);
    assert_eq!(recursive.status.code(), Some(3));
    assert!(
        stdout(&recursive).contains(r#"service/front (edge): progressing: Waiting for service "front" to get a load balancer address..."#),
        "{}",
        stdout(&recursive)
    );
    let only_shop = rollwatch(&["check", "-R", "-f", &dir_arg, "-n", "shop", "--now", LATE]);
    assert_eq!((only_shop.status.code(), stdout(&only_shop).lines().count()), (Some(0), 2));
}

#[test]
fn help_documents_the_exit_codes() {
    for args in [&["--help"][..], &["check", "--help"]] {
        let help = stdout(&rollwatch(args));
        for line in [
            "  0    everything ready",
            "  1    a rollout failed",
            "  2    usage or manifest error",
            "  3    not ready in time",
            "  4    cluster access error",
            "  130  interrupted",
        ] {
            assert!(help.contains(line), "{args:?} lacks {line:?}:\n{help}");
        }
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_without_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollwatch"))
        .args(["check", "-f", &path("web-image-pull.json"), "-o", "json", "--now", LATE])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rollwatch");
    // As `rollwatch check ... | head -0` would: the reader is gone before the first line.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let said = stderr(&output);
    assert!(!said.contains("panicked"), "{said}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(output.status.signal(), Some(libc_sigpipe()), "ended by SIGPIPE as other tools are: {:?}", output.status);
}

/// SIGPIPE's number on Linux.
fn libc_sigpipe() -> i32 {
    13
}

/// Text that whoever controls a container, a webhook or a manifest can put into a dump, crafted
/// to act on a terminal and a CI log: colours, a window title (OSC ... BEL), a bell, clear-screen
/// with the cursor sent home, a C1 CSI asking the terminal to answer, a carriage return that hides
/// what came before, and a GitHub Actions command on a line of its own.
const HOSTILE: &str = "\x1b[31mred\x1b[0m \x1b]0;pwned-title\x07 bell\x07 \x1b[2J\x1b[H \u{9b}6n cr\roverwrite\n::error::pwned";

/// web-image-pull.json with HOSTILE in the image name, the pull error's event message and the
/// change cause, plus a pod of its own whose container ended with HOSTILE as termination message.
fn crafted_dump() -> PathBuf {
    let mut dump: Value = serde_json::from_str(&std::fs::read_to_string(fixture("web-image-pull.json")).unwrap()).unwrap();
    let image = format!("shop/web:{HOSTILE}");
    let items = dump["items"].as_array_mut().unwrap();
    for item in items.iter_mut() {
        let name = item["metadata"]["name"].as_str().unwrap().to_string();
        match (item["kind"].as_str().unwrap(), name.as_str()) {
            ("Deployment", _) => {
                item["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(HOSTILE);
                item["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
            }
            ("ReplicaSet", "web-7f6b9c5d4") => item["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image),
            ("Pod", "web-7f6b9c5d4-h7j2k") => {
                item["spec"]["containers"][0]["image"] = json!(image);
                item["status"]["containerStatuses"][0]["image"] = json!(image);
                item["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = json!(format!("Back-off pulling image \"{image}\""));
            }
            ("Event", "web-7f6b9c5d4-h7j2k.2") => item["message"] = json!(format!("Failed to pull image \"{image}\": {HOSTILE}")),
            _ => {}
        }
    }
    items.push(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "batch", "namespace": "shop", "uid": "0a1b-pod-batch", "creationTimestamp": "2026-03-02T10:00:00Z"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "job", "image": image}]},
        "status": {
            "phase": "Failed",
            "containerStatuses": [{
                "name": "job", "image": image, "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 3, "reason": "Error", "message": HOSTILE, "finishedAt": "2026-03-02T10:01:00Z"}}
            }]
        }
    }));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("crafted.json");
    // serde_json escapes only C0 controls, as `kubectl get -o json` does: the C1 control stays a
    // raw character, which JSON allows and YAML does not, so the dump must be read as JSON.
    let text = serde_json::to_string_pretty(&dump).unwrap();
    assert!(text.contains('\u{9b}'));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn crafted_cluster_text_reaches_the_terminal_escaped_and_json_and_yaml_exact() {
    let crafted = crafted_dump();
    let text = rollwatch(&["check", "-f", crafted.to_str().unwrap(), "--now", LATE]);
    assert_eq!(text.status.code(), Some(1), "stderr: {}", stderr(&text));
    let shown = format!("{}{}", stdout(&text), stderr(&text));
    let raw: Vec<char> = shown.chars().filter(|c| c.is_control() && *c != '\n').collect();
    assert!(raw.is_empty(), "control characters {raw:?} reached the output:\n{shown}");
    for line in shown.lines() {
        assert!(!line.trim_start().starts_with("::"), "a line a CI runner takes for a command: {line}");
    }
    // Shown, not dropped: the reader sees what the cluster said, every sequence visibly escaped.
    let escaped = r"\x1b[31mred\x1b[0m \x1b]0;pwned-title\x07 bell\x07 \x1b[2J\x1b[H \u{9b}6n cr\roverwrite\n::error::pwned";
    assert!(stdout(&text).contains(&format!("container job exited with code 3: {escaped}")), "{shown}");
    assert!(stdout(&text).contains(&format!(r#"Failed to pull image "shop/web:{escaped}": {escaped}"#)), "{shown}");

    let json = rollwatch(&["check", "-o", "json", "-f", crafted.to_str().unwrap(), "--now", LATE]);
    assert_eq!(json.status.code(), Some(1));
    let raw_json = stdout(&json);
    // Every control character escaped, C1 ones too (serde_json leaves those raw).
    assert!(!raw_json.chars().any(|c| c.is_control() && c != '\n'), "{raw_json}");
    let messages: Vec<String> = raw_json
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON object per line"))
        .flat_map(|line| line["reasons"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap().to_string()).collect::<Vec<_>>())
        .collect();
    assert!(messages.contains(&format!("container job exited with code 3: {HOSTILE}")), "{messages:#?}");
    let pull_error = format!("Back-off pulling image \"shop/web:{HOSTILE}\": Failed to pull image \"shop/web:{HOSTILE}\": {HOSTILE}");
    assert!(messages.contains(&pull_error), "{messages:#?}");

    // -o yaml: the same documents, exact once parsed, with nothing raw either.
    let yaml = rollwatch(&["check", "-o", "yaml", "-f", crafted.to_str().unwrap(), "--now", LATE]);
    assert_eq!(yaml.status.code(), Some(1));
    let raw_yaml = stdout(&yaml);
    assert!(!raw_yaml.chars().any(|c| c.is_control() && c != '\n'), "{raw_yaml}");
    assert!(raw_yaml.lines().all(|line| !line.trim_start().starts_with("::")), "{raw_yaml}");
    let documents: Vec<Value> =
        serde_norway::Deserializer::from_str(&raw_yaml).map(|document| serde::Deserialize::deserialize(document).expect("YAML")).collect();
    let lines: Vec<Value> = raw_json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(documents, lines);
}

#[test]
fn an_error_quoting_crafted_text_shows_it_escaped() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("crafted-kind.json");
    let kind = "Deploy\x1b]0;pwned-title\x07ment\n::error::pwned";
    std::fs::write(&path, json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web"}}).to_string()).unwrap();
    let output = rollwatch(&["check", "-f", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(!error.chars().any(|c| c.is_control() && c != '\n'), "{error}");
    assert!(error.lines().all(|line| !line.trim_start().starts_with("::")), "{error}");
    assert!(error.starts_with(r"error: ") && error.contains(r"deploy\x1b]0;pwned-title\x07ment"), "{error}");
}

#[test]
fn wait_for_terminating_holds_a_finished_deployment_until_its_old_pods_are_gone() {
    let manifest = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 2, uid: d1}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, terminatingReplicas: 1}
"#;
    let done = rollwatch_with_stdin(&["check", "-f", "-"], manifest);
    assert_eq!(done.status.code(), Some(0), "kubectl's rule by default: {}", stdout(&done));
    let held = rollwatch_with_stdin(&["check", "-f", "-", "--wait-for-terminating"], manifest);
    assert_eq!(held.status.code(), Some(3), "not ready yet: {}", stdout(&held));
    assert!(stdout(&held).contains("1 old pods are still terminating"), "{}", stdout(&held));
}

#[test]
fn a_rollout_without_a_status_change_for_the_no_progress_timeout_fails_offline() {
    let stuck = rollwatch(&["check", "-f", &path("web-stuck.yaml"), "--now", "2026-03-02T11:00:00Z", "--no-progress-timeout", "90s"]);
    assert_eq!(stuck.status.code(), Some(1), "{}", stderr(&stuck));
    assert!(stdout(&stuck).contains(r#"deployment "web" failed: no progress for 1m30s: pod web-5d4f-x7k2p Pending: PodInitializing"#), "{}", stdout(&stuck));
    // Within the timeout of the newest status timestamp (09:00:05), and without the flag: progressing.
    let within = rollwatch(&["check", "-f", &path("web-stuck.yaml"), "--now", "2026-03-02T09:01:30Z", "--no-progress-timeout", "90s"]);
    assert_eq!(within.status.code(), Some(3), "{}", stdout(&within));
    let off = rollwatch(&["check", "-f", &path("web-stuck.yaml"), "--now", "2026-03-02T11:00:00Z"]);
    assert_eq!(off.status.code(), Some(3), "{}", stdout(&off));
    let bad = rollwatch(&["check", "-f", &path("web-stuck.yaml"), "--no-progress-timeout", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
