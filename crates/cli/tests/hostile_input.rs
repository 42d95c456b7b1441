//! Hostile input to the built binary: whatever a file or a flag holds, rollwatch ends with a
//! clear exit-2 error naming the file, document, field or line (or reads the file as meant) —
//! never a panic, a silent change of meaning, runaway memory or a run that never ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn rollwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).output().expect("run rollwatch")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A directory of its own for one test, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n";

#[test]
fn a_key_given_twice_exits_2_naming_file_document_field_and_line() {
    let dir = scratch("duplicate");
    let file = write(&dir, "web.yaml", &format!("kind: ConfigMap\nmetadata: {{name: c}}\n---\n{DEPLOYMENT}  paused: false\n  replicas: 30\n"));
    for command in ["check", "plan"] {
        let output = rollwatch(&[command, "-f", &file]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(
            stderr(&output)
                .starts_with(&format!("error: {file}: document 2: spec: duplicate key \"replicas\": a mapping may give each key once at line 10 column 3")),
            "{command}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn merge_keys_are_applied_as_yaml_defines_them() {
    let dir = scratch("merge");
    let file = write(
        &dir,
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 4\n  strategy:\n    <<: &one-at-a-time {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}\n    type: RollingUpdate\n",
    );
    let output = rollwatch(&["plan", "-f", &file]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Ignoring the merge key would leave the default 25% surge.
    assert!(stdout(&output).starts_with("Deployment/web: RollingUpdate maxSurge=0 maxUnavailable=1, 4 pod(s)"), "{}", stdout(&output));
}

#[test]
fn nan_and_infinity_exit_2_instead_of_becoming_null() {
    let dir = scratch("nan");
    let file = write(&dir, "web.yaml", &format!("{DEPLOYMENT}  minReadySeconds: .nan\n"));
    let output = rollwatch(&["plan", "-f", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {file}: document 1: spec.minReadySeconds: NaN (.nan or .inf) is not a number JSON can hold; quote it if it is meant as a string at line 6 column 20\n"
        )
    );
}

#[test]
fn deeply_nested_brackets_exit_2_before_parsing() {
    let dir = scratch("nested");
    let file = write(&dir, "deep.yaml", &format!("kind: List\nitems: {}", "[".repeat(80_000)));
    let output = rollwatch(&["check", "-f", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), format!("error: {file}: line 2: more than 1000 brackets ([ or {{) open at once, the most a manifest may have\n"));
}

#[test]
fn input_beyond_the_size_limit_exits_2_before_parsing() {
    let dir = scratch("huge");
    let padding = "#".repeat(1 << 20);
    let file = write(&dir, "dump.yaml", &format!("{DEPLOYMENT}{}", format!("{padding}\n").repeat(33)));
    let output = rollwatch(&["check", "-f", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), format!("error: {file}: larger than 32 MiB, the most a manifest may have\n"));
    std::fs::remove_file(file).unwrap();
}

#[test]
fn recursive_reading_does_not_follow_symlinked_directories() {
    let dir = scratch("links");
    std::fs::copy(fixture("web-ready.yaml"), dir.join("web.yaml")).unwrap();
    // Two links back to the directory itself: followed, they make 2^40 paths before the kernel's
    // link limit stops any one of them.
    std::os::unix::fs::symlink(".", dir.join("again")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
    // A link to a manifest file is read, as kubectl reads it.
    let elsewhere = scratch("links-target");
    let service = write(&elsewhere, "front.json", r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": "shop"}, "spec": {}}"#);
    std::os::unix::fs::symlink(&service, dir.join("front.json")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_rollwatch"))
        .args(["check", "-R", "-f", &dir.display().to_string(), "--now", "2026-03-02T10:10:00Z"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A generous bound: it takes milliseconds, and without the fix it never ends.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("check -R did not end on a directory with symlink loops");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines: Vec<String> = stdout(&output).lines().filter(|line| !line.starts_with(' ')).map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "each object once: {lines:?}");
    assert!(lines.iter().any(|line| line.starts_with("service/front")), "{lines:?}");
}

#[test]
fn duration_flags_beyond_kubectls_range_exit_2() {
    let web = fixture("web-ready.yaml").display().to_string();
    let cases: [&[&str]; 4] = [
        &["wait", "deployment/web", "--timeout", "18446744073709551615"],
        &["wait", "deployment/web", "--poll=600000000y"],
        &["check", "-f", &web, "--waiting-grace", "600000000y"],
        &["check", "-f", &web, "--stable-for", "18446744073709551615s"],
    ];
    for args in cases {
        let output = rollwatch(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("is out of range: at most about 292 years"), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn a_poll_interval_of_zero_exits_2_instead_of_listing_without_pause() {
    let output = rollwatch(&["wait", "deployment/web", "--poll=0s"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("interval \"0s\" must be more than zero"), "{}", stderr(&output));
}
