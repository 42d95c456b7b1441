//! Custom resources on the control plane (issue #16): the test plays the operator, writing status
//! through the status subresource over time, and rollwatch follows a built-in rule (Argo Rollouts)
//! and a `--rules` rule live: waiting for the controller while no status is written, progressing,
//! then ready, or failed with the rule's message; offline `check` gives the same verdicts on
//! dumps of the same objects.

use std::sync::Mutex;
use std::time::Duration;

use rollwatch_testbed::{TestNamespace, kubectl_global, kubectl_stdin, rollwatch};
use serde_json::{Value, json};

/// A CustomResourceDefinition with a status subresource and an open schema.
fn definition(group: &str, kind: &str, plural: &str) -> String {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_ascii_lowercase(), "listKind": format!("{kind}List")},
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }]
        }
    })
    .to_string()
}

/// Installs a definition, one install at a time in this binary: two tests installing the same
/// definition at once both see it absent and both create it, and the second `apply` fails with
/// AlreadyExists (CI, stop 25).
fn install(group: &str, kind: &str, plural: &str) {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    kubectl_stdin(&["apply", "-f", "-"], &definition(group, kind, plural)).ok();
    kubectl_global(&["wait", "--for", "condition=established", "--timeout", "60s", &format!("crd/{plural}.{group}")]).ok();
}

/// Plays the operator: replaces the object's status through its status subresource.
fn write_status(ns: &TestNamespace, group: &str, plural: &str, name: &str, status: Value) {
    let mut object = ns.get(&format!("{plural}.{group}/{name}"));
    object["status"] = status;
    let path = format!("/apis/{group}/v1alpha1/namespaces/{}/{plural}/{name}/status", ns.name);
    kubectl_stdin(&["replace", "--raw", &path, "-f", "-"], &object.to_string()).ok();
}

#[test]
fn a_built_in_rule_is_followed_live_from_no_status_to_ready() {
    install("argoproj.io", "Rollout", "rollouts");
    let ns = TestNamespace::new("cr-rollout");
    ns.apply("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec: {replicas: 2}\n").ok();
    let watching = ns.spawn_rollwatch(&["wait", "rollouts.argoproj.io/web", "--timeout", "3m"]);
    watching.wait_for_stdout("Waiting for the controller to report the status of rollout.argoproj.io/web", Duration::from_secs(60));
    let progressing = json!({"observedGeneration": "1", "phase": "Progressing", "message": "more replicas need to be updated"});
    write_status(&ns, "argoproj.io", "rollouts", "web", progressing.clone());
    watching.wait_for_stdout("Waiting for rollout.argoproj.io/web to be ready: more replicas need to be updated", Duration::from_secs(60));
    let dump_progressing = ns.kubectl(&["get", "rollouts.argoproj.io", "-o", "json"]).ok().stdout;
    write_status(&ns, "argoproj.io", "rollouts", "web", json!({"observedGeneration": "1", "phase": "Healthy"}));
    let run = watching.finish(Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("rollout.argoproj.io/web is ready"), "{}", run.output());

    // Offline, the dumps give the same verdicts.
    let check = |dump: &str| rollwatch_testbed::rollwatch_with(&rollwatch_testbed::kubeconfig(), &["check", "-f", "-"], Some(dump));
    let earlier = check(&dump_progressing);
    assert_eq!(earlier.code, Some(3), "{}", earlier.output());
    assert!(earlier.stdout.contains("progressing: Waiting for rollout.argoproj.io/web to be ready: more replicas need to be updated"), "{}", earlier.output());
    let now = ns.kubectl(&["get", "rollouts.argoproj.io", "-o", "json"]).ok().stdout;
    let later = check(&now);
    assert_eq!(later.code, Some(0), "{}", later.output());
}

#[test]
fn a_rules_file_rule_is_followed_live_to_failed_with_its_message() {
    install("testbed.rollwatch.dev", "Widget", "widgets");
    let ns = TestNamespace::new("cr-widget");
    let rules = std::env::temp_dir().join(format!("rollwatch-{}-rules.yaml", ns.name));
    std::fs::write(
        &rules,
        "rules:\n- group: testbed.rollwatch.dev\n  kind: Widget\n  ready: \"has(self.status.phase) && self.status.phase == 'Running'\"\n  \
         failed: \"has(self.status.phase) && self.status.phase == 'Broken'\"\n  message: \"self.status.detail\"\n",
    )
    .unwrap();
    let rules_path = rules.to_str().unwrap();
    ns.apply("apiVersion: testbed.rollwatch.dev/v1alpha1\nkind: Widget\nmetadata: {name: w}\nspec: {gears: 3}\n").ok();
    let watching = ns.spawn_rollwatch(&["wait", "widgets.testbed.rollwatch.dev/w", "--rules", rules_path, "--timeout", "3m"]);
    watching.wait_for_stdout("Waiting for the controller to report the status of widget.testbed.rollwatch.dev/w", Duration::from_secs(60));
    write_status(&ns, "testbed.rollwatch.dev", "widgets", "w", json!({"phase": "Assembling", "detail": "1 of 3 gears in place"}));
    watching.wait_for_stdout("Waiting for widget.testbed.rollwatch.dev/w to be ready: 1 of 3 gears in place", Duration::from_secs(60));
    write_status(&ns, "testbed.rollwatch.dev", "widgets", "w", json!({"phase": "Broken", "detail": "no gears left"}));
    let run = watching.finish(Duration::from_secs(60));
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.stdout.contains("widget.testbed.rollwatch.dev/w failed: no gears left"), "{}", run.output());

    let dump = ns.kubectl(&["get", "widgets.testbed.rollwatch.dev", "-o", "json"]).ok().stdout;
    let check = rollwatch_testbed::rollwatch_with(&rollwatch_testbed::kubeconfig(), &["check", "--rules", rules_path, "-f", "-"], Some(&dump));
    assert_eq!(check.code, Some(1), "{}", check.output());
    assert!(
        check.stdout.contains("widget.testbed.rollwatch.dev/w (") && check.stdout.contains("failed: widget.testbed.rollwatch.dev/w failed: no gears left"),
        "{}",
        check.output()
    );
    let status = rollwatch(&["-n", &ns.name, "status", "widgets.testbed.rollwatch.dev/w", "--rules", rules_path]);
    assert_eq!(status.code, Some(1), "{}", status.output());
    let _ = std::fs::remove_file(&rules);
}

/// Removes the test's cluster-wide RBAC objects however it ends.
struct ClusterRbac(String);

impl Drop for ClusterRbac {
    fn drop(&mut self) {
        let _ = kubectl_global(&["delete", "clusterrolebinding,clusterrole", &self.0, "--wait=false"]);
    }
}

#[test]
fn a_user_denied_the_crd_gets_todays_verdict_with_a_note() {
    install("testbed.rollwatch.dev", "Widget", "widgets");
    let ns = TestNamespace::new("cr-denied");
    ns.apply("apiVersion: testbed.rollwatch.dev/v1alpha1\nkind: Widget\nmetadata: {name: fresh}\nspec: {gears: 1}\n").ok();
    // The read-only viewer may read Widgets, not CustomResourceDefinitions.
    let rbac = ClusterRbac(format!("{}-widgets", ns.name));
    kubectl_global(&["create", "clusterrole", &rbac.0, "--verb=get,list,watch", "--resource=widgets.testbed.rollwatch.dev"]).ok();
    kubectl_global(&["create", "clusterrolebinding", &rbac.0, &format!("--clusterrole={}", rbac.0), "--user=viewer"]).ok();
    let admin = rollwatch(&["-n", &ns.name, "status", "widgets.testbed.rollwatch.dev/fresh"]);
    assert_eq!(admin.code, Some(3), "with the CRD read, no status yet is not ready: {}", admin.output());
    assert!(admin.stdout.contains("Waiting for the controller to report the status of widget.testbed.rollwatch.dev/fresh"), "{}", admin.output());
    let viewer = rollwatch_testbed::wait_for("the viewer's role to apply", Duration::from_secs(30), || {
        let run = rollwatch(&["--context", "rollwatch-viewer", "-n", &ns.name, "status", "widgets.testbed.rollwatch.dev/fresh"]);
        (run.code != Some(4)).then_some(run)
    });
    assert_eq!(viewer.code, Some(0), "denied the CRD, judged as before (no status: nothing to wait for): {}", viewer.output());
    let output = viewer.output();
    let notes: Vec<&str> = output.lines().filter(|line| line.contains("cannot read the CustomResourceDefinition widgets.testbed.rollwatch.dev")).collect();
    assert_eq!(notes.len(), 1, "{output}");
    assert!(notes[0].contains("Widget objects without status are judged as before"), "{output}");
}
