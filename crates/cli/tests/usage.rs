//! The command line's contract where no cluster is needed: usage and manifest errors exit 2
//! naming what is wrong, an unreachable cluster exits 4, and --help documents the exit codes.

use std::io::Write;
use std::process::{Command, Output};

fn rollwatch(args: &[&str]) -> Output {
    let kubeconfig = unreachable_kubeconfig();
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).env("KUBECONFIG", kubeconfig.path()).output().expect("rollwatch runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A kubeconfig whose API server is a loopback port nothing listens on; deleted when dropped
/// (also when a test panics).
fn unreachable_kubeconfig() -> tempfile::NamedTempFile {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut file = tempfile::Builder::new().prefix("rollwatch-unreachable-").suffix(".kubeconfig").tempfile().unwrap();
    write!(
        file,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\n\
         users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
    )
    .unwrap();
    file
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

    let file = tempfile::Builder::new().prefix("rollwatch-invalid-").suffix(".yaml").tempfile().unwrap();
    let path = file.path();
    std::fs::write(path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nmetadata: {name: kindless}\n").unwrap();
    let invalid = rollwatch(&["apply", "-f", path.to_str().unwrap()]);
    assert_eq!(invalid.status.code(), Some(2), "{}", text(&invalid));
    let said = text(&invalid);
    assert!(said.contains(path.to_str().unwrap()) && said.contains("document 2") && said.contains("kind"), "{said}");
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

/// A kubeconfig whose user gets credentials from `plugin`, an exec plugin script, with a secret
/// in the plugin's arguments and environment too; in a directory deleted when dropped.
fn exec_plugin_kubeconfig(name: &str, plugin: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(&format!("rollwatch-exec-{name}-")).tempdir().unwrap();
    let script = dir.path().join("plugin");
    std::fs::write(&script, format!("#!/bin/sh\n{plugin}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {}\n\
             \x20     args: ['--password=ARG-s3cr3t']\n      env: [{{name: PLUGIN_KEY, value: ENV-s3cr3t}}]\n      interactiveMode: Never\n\
             contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
            script.display()
        ),
    )
    .unwrap();
    (dir, path)
}

#[test]
fn a_failing_exec_plugin_is_an_access_error_that_does_not_echo_its_output() {
    let token = r#"{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {"token": "TOKEN-s3cr3t"}}"#;
    let plugins = [
        ("fails", format!("echo '{token}'\necho 'refresh token REFRESH-s3cr3t expired' >&2\nexit 1"), "exec credential plugin failed (exit status: 1)"),
        ("garbles", "echo 'TOKEN-s3cr3t: [unclosed'".to_string(), "exec credential plugin did not print a valid ExecCredential"),
    ];
    for (name, plugin, expected) in plugins {
        let (_dir, kubeconfig) = exec_plugin_kubeconfig(name, &plugin);
        for output_format in ["text", "json"] {
            let output = Command::new(env!("CARGO_BIN_EXE_rollwatch"))
                .args(["status", "deployment/web", "-o", output_format, "--kubeconfig", kubeconfig.to_str().unwrap()])
                .output()
                .expect("rollwatch runs");
            let said = text(&output);
            assert_eq!(output.status.code(), Some(4), "{name} ({output_format}): {said}");
            assert!(said.contains(expected), "{name} ({output_format}): {said}");
            assert!(!said.contains("s3cr3t"), "{name} ({output_format}) shows the plugin's secrets: {said}");
        }
    }
}
