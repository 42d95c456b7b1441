//! Narrow roles (a CI deployer's): a user who may not read Events still gets verdicts — tracking
//! goes on without them, with one note, instead of ending with exit 4; likewise without the
//! Nodes, read only once a pod cannot be scheduled — and a Secret among the objects needs no more than `get` on it: objects without a
//! status are never listed or watched.

use std::time::Duration;

use rollwatch_testbed::{TestNamespace, deployment, kubeconfig, rollwatch_with, wait_for};

/// A kubeconfig for a service account of `ns` bound to one role per `(verbs, resources)`.
/// (Deleted when dropped.)
fn deployer(ns: &TestNamespace, roles: &[(&str, &str)]) -> tempfile::NamedTempFile {
    ns.kubectl(&["create", "serviceaccount", "deployer"]).ok();
    for (index, (verbs, resources)) in roles.iter().enumerate() {
        let role = format!("deployer-{index}");
        ns.kubectl(&["create", "role", &role, &format!("--verb={verbs}"), &format!("--resource={resources}")]).ok();
        ns.kubectl(&["create", "rolebinding", &role, &format!("--role={role}"), &format!("--serviceaccount={}:deployer", ns.name)]).ok();
    }
    // v1.20 gives a service account a token Secret.
    let secret = wait_for("the deployer's token Secret", Duration::from_secs(60), || {
        let name = ns.kubectl(&["get", "serviceaccount", "deployer", "-o", "jsonpath={.secrets[0].name}"]).stdout;
        (!name.is_empty()).then_some(name)
    });
    let token = ns.kubectl(&["get", "secret", &secret, "-o", "go-template={{.data.token | base64decode}}"]).ok().stdout;

    let narrow_file = tempfile::Builder::new().prefix(&format!("rollwatch-{}-", ns.name)).suffix(".kubeconfig").tempfile().unwrap();
    let narrow = narrow_file.path();
    let config =
        std::process::Command::new("kubectl").env("KUBECONFIG", kubeconfig()).args(["config", "view", "--raw", "--minify"]).output().expect("kubectl runs");
    std::fs::write(narrow, &config.stdout).unwrap();
    let narrow_kubectl = |args: &[&str]| {
        let done = std::process::Command::new("kubectl").env("KUBECONFIG", narrow).args(args).output().expect("kubectl runs");
        assert!(done.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&done.stderr));
    };
    narrow_kubectl(&["config", "set-credentials", "deployer", &format!("--token={token}")]);
    narrow_kubectl(&["config", "set-context", "--current", "--user=deployer"]);
    narrow_file
}

#[test]
fn a_user_denied_events_gets_the_verdict_with_one_note() {
    let ns = TestNamespace::new("no-events");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    let narrow = deployer(&ns, &[("get,list,watch", "deployments,replicasets,pods")]);

    let run = rollwatch_with(narrow.path(), &["-n", &ns.name, "wait", "deployment/web", "--timeout", "2m"], None);
    assert_eq!(run.code, Some(0), "{}", run.output());
    let output = run.output();
    let notes: Vec<&str> = output.lines().filter(|l| l.contains("going on without them")).collect();
    assert_eq!(notes.iter().filter(|note| note.contains("watching events")).count(), 1, "one note about the Events:\n{output}");
    // The Nodes and the autoscaler's status are read only once a pod cannot be scheduled.
    assert!(!notes.iter().any(|note| note.contains("nodes")) && !output.contains("cluster autoscaler"), "{output}");
}

#[test]
fn a_user_denied_the_nodes_gets_an_unschedulable_verdict_after_the_grace_with_one_note_each() {
    let ns = TestNamespace::new("no-nodes");
    // More cpu than any node has (the simulator's have 4).
    ns.apply(&deployment("big", 1, "nginx:1.19", "ready", "resources: {requests: {cpu: '16'}}", "")).ok();
    let narrow = deployer(&ns, &[("get,list,watch", "deployments,replicasets,pods,events")]);

    let run = rollwatch_with(narrow.path(), &["-n", &ns.name, "wait", "deployment/big", "--timeout", "2m", "--unschedulable-grace", "5s"], None);
    let output = run.output();
    assert_eq!(run.code, Some(1), "{output}");
    // A namespaced role may not read the Nodes (whose allocatable tells a pod too large for all
    // of them, at once) nor kube-system's ConfigMaps (whether an autoscaler runs): one note each,
    // and the scheduler's word counts after the grace.
    let notes: Vec<&str> = output.lines().filter(|l| l.contains("going on without them")).collect();
    assert_eq!(notes.iter().filter(|note| note.contains("watching nodes")).count(), 1, "one note about the Nodes:\n{output}");
    assert_eq!(output.matches("cannot tell whether a cluster autoscaler runs").count(), 1, "{output}");
    let autoscaler = output.lines().find(|l| l.contains("cannot tell whether a cluster autoscaler runs")).unwrap_or_default();
    assert!(autoscaler.contains(" note: ") && !autoscaler.contains("retrying"), "said once as a note, nothing retried: {autoscaler}");
    assert!(output.contains("Unschedulable") && output.contains("Insufficient cpu"), "{output}");
    assert!(!output.contains("more than any node has"), "the Nodes were not read: {output}");
}

#[test]
fn a_secret_among_the_manifests_needs_only_get_on_it() {
    let ns = TestNamespace::new("secret-get");
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n";
    let manifests = format!("{secret}---\n{}", deployment("web", 1, "nginx:1.19", "ready", "", ""));
    ns.apply(&manifests).ok();
    // Secrets: get only, no list or watch (a role that must not read every Secret of the namespace).
    let narrow = deployer(&ns, &[("get,list,watch", "deployments,replicasets,pods,events"), ("get", "secrets")]);

    let run = rollwatch_with(narrow.path(), &["-n", &ns.name, "wait", "-f", "-", "--timeout", "2m", "-o", "json"], Some(&manifests));
    assert_eq!(run.code, Some(0), "{}", run.output());
    let last =
        run.json_lines().into_iter().rfind(|line| line["object"]["kind"] == "Secret").unwrap_or_else(|| panic!("a verdict for the Secret:\n{}", run.output()));
    assert_eq!(last["state"], "Ready", "{}", run.output());
    // Denied nothing about Secrets (the Nodes and the autoscaler's ConfigMap are optional reads
    // outside the role, each noted once).
    assert!(!run.output().lines().any(|line| line.contains("forbidden") && line.contains("secrets")), "{}", run.output());
}
