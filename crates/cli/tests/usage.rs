//! The command line's contract where no cluster is needed: usage and manifest errors exit 2
//! naming what is wrong, an unreachable cluster exits 4, and --help documents the exit codes.

use std::io::Write;
use std::process::{Command, Output};

fn rollwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).env("KUBECONFIG", unreachable_kubeconfig()).output().expect("rollwatch runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A kubeconfig whose API server is a loopback port nothing listens on.
fn unreachable_kubeconfig() -> std::path::PathBuf {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let path = std::env::temp_dir().join(format!("rollwatch-unreachable-{}-{port}.kubeconfig", std::process::id()));
    let mut file = std::fs::File::create(&path).unwrap();
    write!(
        file,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\n\
         users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
    )
    .unwrap();
    path
}

#[test]
fn help_documents_the_exit_codes() {
    let output = rollwatch(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output);
    for line in ["1    a rollout failed", "3    not ready in time", "4    cluster access error", "130  interrupted"] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn bad_flags_and_object_names_are_usage_errors() {
    let unknown_flag = rollwatch(&["wait", "deployment/web", "--no-such-flag"]);
    assert_eq!(unknown_flag.status.code(), Some(2), "{}", text(&unknown_flag));
    let bad_duration = rollwatch(&["wait", "deployment/web", "--timeout", "soon"]);
    assert_eq!(bad_duration.status.code(), Some(2), "{}", text(&bad_duration));
    assert!(text(&bad_duration).contains("invalid duration \"soon\""), "{}", text(&bad_duration));
    // `--poll` takes its interval only as `--poll=5s`, so it never swallows an object.
    let poll_then_object = rollwatch(&["wait", "--poll", "web"]);
    assert!(text(&poll_then_object).contains("invalid object reference \"web\""), "{}", text(&poll_then_object));
    let no_slash = rollwatch(&["wait", "web"]);
    assert_eq!(no_slash.status.code(), Some(2));
    assert!(text(&no_slash).contains("invalid object reference \"web\""), "{}", text(&no_slash));
    let all_namespaces_without_selector = rollwatch(&["status", "deployment/web", "-A"]);
    assert_eq!(all_namespaces_without_selector.status.code(), Some(2));
    let bad_image = rollwatch(&["set", "image", "deployment/web", "app"]);
    assert_eq!(bad_image.status.code(), Some(2));
    assert!(text(&bad_image).contains("expected CONTAINER=IMAGE"), "{}", text(&bad_image));
}

#[test]
fn an_unreadable_or_invalid_manifest_is_a_manifest_error_naming_the_file() {
    let missing = rollwatch(&["apply", "-f", "/nonexistent/web.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("/nonexistent/web.yaml"), "{}", text(&missing));

    let path = std::env::temp_dir().join(format!("rollwatch-invalid-{}.yaml", std::process::id()));
    std::fs::write(&path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nmetadata: {name: kindless}\n").unwrap();
    let invalid = rollwatch(&["apply", "-f", path.to_str().unwrap()]);
    assert_eq!(invalid.status.code(), Some(2), "{}", text(&invalid));
    let said = text(&invalid);
    assert!(said.contains(path.to_str().unwrap()) && said.contains("document 2") && said.contains("kind"), "{said}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn an_unreachable_cluster_is_a_cluster_access_error() {
    let output = rollwatch(&["status", "deployment/web"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    let json = rollwatch(&["wait", "deployment/web", "-o", "json"]);
    assert_eq!(json.status.code(), Some(4));
    let line: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON line");
    assert_eq!(line["event"], "error");
    assert_eq!(line["exit_code"], 4);
}
