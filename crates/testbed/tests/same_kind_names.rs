//! Objects are keyed by API group and kind: a custom resource whose kind is named like a built-in
//! one (`Deployment` of example.com) beside an apps/v1 Deployment of the same name and namespace
//! is another object, tracked and judged by its own rules.

use rollwatch_testbed::{TestNamespace, deployment, kubectl_global, kubectl_stdin, wait_for};
use std::time::Duration;

struct Crd(String);

impl Drop for Crd {
    fn drop(&mut self) {
        let _ = kubectl_global(&["delete", "customresourcedefinition", &self.0, "--wait=false"]);
    }
}

#[test]
fn a_custom_deployment_kind_beside_an_apps_deployment_of_the_same_name_is_tracked_apart() {
    let ns = TestNamespace::new("same-kind");
    let group = format!("t{:x}.example.com", std::process::id());
    let crd = Crd(format!("deployments.{group}"));
    let definition = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {}}}\nspec:\n  group: {group}\n  scope: Namespaced\n  \
         names: {{kind: Deployment, plural: deployments, singular: deployment}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    \
         schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n",
        crd.0
    );
    kubectl_stdin(&["apply", "-f", "-"], &definition).ok();
    wait_for("the CRD to be established", Duration::from_secs(60), || {
        kubectl_global(&["wait", "--for=condition=Established", &format!("crd/{}", crd.0), "--timeout=5s"]).success.then_some(())
    });
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    // No status subresource: the status is written with the object. Its controller says it is stuck.
    let custom = format!(
        "apiVersion: {group}/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec: {{size: 1}}\nstatus:\n  conditions:\n  \
         - {{type: Stalled, status: \"True\", reason: NoCapacity, message: no region has room}}\n"
    );
    ns.apply(&custom).ok();

    let apps = ns.rollwatch(&["wait", "deployment/web", "--timeout", "2m"]);
    assert_eq!(apps.code, Some(0), "{}", apps.output());
    let both = ns.rollwatch(&["wait", "deployments.apps/web", &format!("deployment.{group}/web"), "--wait-all", "--timeout", "2m", "-o", "json"]);
    assert_eq!(both.code, Some(1), "the custom one is stalled:\n{}", both.output());
    let lines = both.json_lines();
    let last = |custom: bool| {
        lines.iter().rfind(|l| l["event"] == "verdict" && l["object"]["kind"] == "Deployment" && (l["object"]["group"] == group.as_str()) == custom).cloned()
    };
    let (apps, custom) = (last(false).expect("the apps Deployment's verdict"), last(true).expect("the custom Deployment's verdict"));
    assert_eq!(apps["state"], "Ready", "{}", both.output());
    assert_eq!(custom["state"], "Failed", "{}", both.output());
    assert_eq!(custom["reasons"][0]["code"], "NoCapacity", "{}", both.output());
    drop(crd);
}
