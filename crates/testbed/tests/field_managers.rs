//! `rollwatch apply` beside kubectl, Helm and Argo CD: a field another field manager owns is a
//! conflict that names the fields and the manager and says how to take them over; with
//! `--force-conflicts` rollwatch takes over a Deployment created by a client-side `kubectl apply`,
//! as the field manager `--field-manager` names.

use rollwatch_testbed::{TestNamespace, deployment};

#[test]
fn a_deployment_made_by_client_side_kubectl_apply_is_taken_over_only_when_asked() {
    let ns = TestNamespace::new("takeover");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    let changed = deployment("web", 2, "nginx:1.20", "ready", "", "");

    let refused = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m", "--stable-for", "0"], &changed);
    assert_eq!(refused.code, Some(2), "{}", refused.output());
    let said = refused.output();
    for part in [r#"field manager "kubectl-client-side-apply""#, ".spec.replicas", r#".spec.template.spec.containers[name="app"].image"#, "--force-conflicts"] {
        assert!(said.contains(part), "{part:?} in:\n{said}");
    }
    let unchanged = ns.get("deployment/web");
    assert_eq!(unchanged["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.19", "the dry run changed nothing");

    let taken =
        ns.rollwatch_stdin(&["apply", "-f", "-", "--force-conflicts", "--field-manager", "ci-deployer", "--timeout", "2m", "--stable-for", "0"], &changed);
    assert_eq!(taken.code, Some(0), "{}", taken.output());
    let web = ns.kubectl(&["get", "deployment/web", "-o", "json", "--show-managed-fields"]).ok().json();
    assert_eq!(web["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.20");
    assert_eq!(web["spec"]["replicas"], 2);
    let managers: Vec<(&str, &str)> = web["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["manager"].as_str().unwrap_or(""), m["operation"].as_str().unwrap_or("")))
        .collect();
    assert!(managers.contains(&("ci-deployer", "Apply")), "{managers:?}");

    // The same manager applies again without a conflict, and without --force-conflicts.
    let again = ns.rollwatch_stdin(&["apply", "-f", "-", "--field-manager", "ci-deployer", "--timeout", "2m", "--stable-for", "0"], &changed);
    assert_eq!(again.code, Some(0), "{}", again.output());
    // Another server-side manager now conflicts with ci-deployer, and is told so.
    let other = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &deployment("web", 3, "nginx:1.20", "ready", "", ""));
    assert_eq!(other.code, Some(2), "{}", other.output());
    assert!(other.output().contains(r#".spec.replicas owned by field manager "ci-deployer""#), "{}", other.output());
}
