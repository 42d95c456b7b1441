//! A user whose role may not read Events (a narrow CI deployer) still gets verdicts: tracking goes
//! on without them, with one note, instead of ending with exit 4; likewise without the Nodes.

use std::time::Duration;

use rollwatch_testbed::{TestNamespace, deployment, kubeconfig, rollwatch_with, wait_for};

#[test]
fn a_user_denied_events_gets_the_verdict_with_one_note() {
    let ns = TestNamespace::new("no-events");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    ns.kubectl(&["create", "serviceaccount", "deployer"]).ok();
    ns.kubectl(&["create", "role", "deployer", "--verb=get,list,watch", "--resource=deployments,replicasets,pods"]).ok();
    ns.kubectl(&["create", "rolebinding", "deployer", "--role=deployer", &format!("--serviceaccount={}:deployer", ns.name)]).ok();
    // v1.20 gives a service account a token Secret.
    let secret = wait_for("the deployer's token Secret", Duration::from_secs(60), || {
        let name = ns.kubectl(&["get", "serviceaccount", "deployer", "-o", "jsonpath={.secrets[0].name}"]).stdout;
        (!name.is_empty()).then_some(name)
    });
    let token = ns.kubectl(&["get", "secret", &secret, "-o", "go-template={{.data.token | base64decode}}"]).ok().stdout;

    let narrow = std::env::temp_dir().join(format!("rollwatch-{}-kubeconfig", ns.name));
    let config =
        std::process::Command::new("kubectl").env("KUBECONFIG", kubeconfig()).args(["config", "view", "--raw", "--minify"]).output().expect("kubectl runs");
    std::fs::write(&narrow, &config.stdout).unwrap();
    let narrow_kubectl = |args: &[&str]| {
        let done = std::process::Command::new("kubectl").env("KUBECONFIG", &narrow).args(args).output().expect("kubectl runs");
        assert!(done.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&done.stderr));
    };
    narrow_kubectl(&["config", "set-credentials", "deployer", &format!("--token={token}")]);
    narrow_kubectl(&["config", "set-context", "--current", "--user=deployer"]);

    let run = rollwatch_with(&narrow, &["-n", &ns.name, "wait", "deployment/web", "--timeout", "2m"], None);
    let _ = std::fs::remove_file(&narrow);
    assert_eq!(run.code, Some(0), "{}", run.output());
    let output = run.output();
    let notes: Vec<&str> = output.lines().filter(|l| l.contains("going on without them")).collect();
    assert_eq!(notes.iter().filter(|note| note.contains("watching events")).count(), 1, "one note about the Events:\n{output}");
    // Nor may a namespaced role read the Nodes (whose allocatable tells a pod too large for
    // all of them) or kube-system's ConfigMaps (whether an autoscaler runs): one note each.
    assert_eq!(notes.iter().filter(|note| note.contains("watching nodes")).count(), 1, "one note about the Nodes:\n{output}");
    assert_eq!(output.matches("cannot tell whether a cluster autoscaler runs").count(), 1, "{output}");
    let autoscaler = output.lines().find(|l| l.contains("cannot tell whether a cluster autoscaler runs")).unwrap_or_default();
    assert!(autoscaler.contains(" note: ") && !autoscaler.contains("retrying"), "said once as a note, nothing retried: {autoscaler}");
}
