//! The rollout management commands refuse bad input before asking the cluster (exit 2, naming
//! what is wrong), and an unreachable cluster is a cluster access error (exit 4).

use std::process::{Command, Output};

/// A kubeconfig whose API server is a loopback port nothing listens on; deleted when dropped
/// (also when a test panics).
fn unreachable_kubeconfig() -> tempfile::NamedTempFile {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\n\
         users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
    );
    let file = tempfile::Builder::new().prefix("rollwatch-rollout-unreachable-").suffix(".kubeconfig").tempfile().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

fn rollwatch(args: &[&str]) -> (Option<i32>, String) {
    let kubeconfig = unreachable_kubeconfig();
    let output: Output = Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).env("KUBECONFIG", kubeconfig.path()).output().expect("rollwatch runs");
    (output.status.code(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn bad_objects_kinds_and_flags_are_usage_errors_before_the_cluster_is_asked() {
    for (args, expected) in [
        (&["history", "web"][..], "invalid object reference \"web\""),
        (&["undo", "job/migrate"], "job/migrate: Job has no rollout history"),
        (&["restart", "pod/tool"], "pod/tool: Pod has no rollout history"),
        (&["pause", "statefulset/db"], "statefulset/db cannot be paused or resumed: only Deployments can"),
        (&["resume", "ds/agent"], "daemonset/agent cannot be paused or resumed"),
        (&["undo", "deployment/web", "--to-revision", "two"], "invalid value 'two'"),
        (&["history", "deployment/web", "--diff", "1"], "--diff <N> <M>"),
        (&["history", "deployment/web", "--revision", "1", "--diff", "1", "2"], "cannot be used with"),
    ] {
        let (code, said) = rollwatch(args);
        assert_eq!(code, Some(2), "{args:?}: {said}");
        assert!(said.contains(expected), "{args:?} says {expected:?}: {said}");
    }
}

#[test]
fn an_unreachable_cluster_is_a_cluster_access_error() {
    for args in [&["history", "deployment/web"][..], &["undo", "deployment/web"], &["pause", "deploy/web"], &["restart", "sts/db"]] {
        let (code, said) = rollwatch(args);
        assert_eq!(code, Some(4), "{args:?}: {said}");
    }
}
