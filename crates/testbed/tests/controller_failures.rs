//! Pods a controller cannot create — a ResourceQuota used up, a ServiceAccount that does not
//! exist (the API server's ServiceAccount admission plugin, on by default, rejects the pod) — fail
//! a ReplicaSet, StatefulSet or DaemonSet after the waiting grace with the controller's message.
//! None of the three has a progress deadline: without the rule rollwatch would wait until its
//! `--timeout` (exit 3); exit 1 within it means the controller's report was read.

use rollwatch_testbed::{TestNamespace, wait_for};
use serde_json::Value;
use std::time::Duration;

const TOLERANCES: &[&str] = &["--waiting-grace", "5s", "--timeout", "3m"];

/// `rollwatch apply -f -` of `manifest`, which must fail; the summary entry of `kind`/`name`.
fn apply_fails(ns: &TestNamespace, manifest: &str, kind: &str, name: &str) -> Value {
    let (_, summary) = ns.apply_failing(manifest, TOLERANCES);
    let object =
        summary["objects"].as_array().unwrap().iter().find(|o| o["object"]["kind"] == kind && o["object"]["name"] == name).expect("the object in the summary");
    assert_eq!(object["state"], "Failed", "{object:#}");
    object.clone()
}

/// The FailedCreate reason of a failed object's explanation, about the object itself.
fn failed_create(object: &Value, kind: &str) -> Value {
    let details = object["explanation"]["details"].as_array().expect("explanation details");
    let detail = details.iter().find(|d| d["reason"]["code"] == "FailedCreate").unwrap_or_else(|| panic!("no FailedCreate: {object:#}"));
    assert_eq!(detail["reason"]["object"]["kind"], kind, "{detail:#}");
    detail["reason"].clone()
}

fn pod_template(name: &str, service_account: Option<&str>) -> String {
    let account = service_account.map(|a| format!("serviceAccountName: {a}")).unwrap_or_default();
    format!(
        r#"  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      {account}
      containers:
      - {{name: app, image: "nginx:1.19"}}
"#
    )
}

#[test]
fn a_stateful_set_over_its_pod_quota_fails_with_the_quota_message() {
    let ns = TestNamespace::new("cf-quota");
    ns.apply("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods}\nspec: {hard: {pods: \"1\"}}\n").ok();
    wait_for("the quota's usage to be counted", Duration::from_secs(60), || ns.get("resourcequota/pods")["status"]["used"]["pods"].is_string().then_some(()));
    let manifest = format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db}}\nspec:\n  replicas: 2\n  serviceName: db\n  podManagementPolicy: Parallel\n{}",
        pod_template("db", None)
    );
    let db = apply_fails(&ns, &manifest, "StatefulSet", "db");
    let reason = failed_create(&db, "StatefulSet");
    let message = reason["message"].as_str().unwrap();
    assert!(message.contains("exceeded quota: pods"), "{reason:#}");
    assert!(db["message"].as_str().unwrap().starts_with(r#"statefulset "db" cannot create pods: "#), "{db:#}");
}

#[test]
fn a_replica_set_with_a_missing_service_account_fails_with_the_admission_message() {
    let ns = TestNamespace::new("cf-rs-sa");
    let manifest = format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: cache}}\nspec:\n  replicas: 2\n{}", pod_template("cache", Some("ghost")));
    let cache = apply_fails(&ns, &manifest, "ReplicaSet", "cache");
    let reason = failed_create(&cache, "ReplicaSet");
    assert!(reason["message"].as_str().unwrap().contains(r#"serviceaccount "ghost" not found"#), "{reason:#}");
    assert!(cache["message"].as_str().unwrap().starts_with(r#"replica set "cache" cannot create pods: "#), "{cache:#}");
}

#[test]
fn a_daemon_set_with_a_missing_service_account_fails_with_the_admission_message() {
    let ns = TestNamespace::new("cf-ds-sa");
    let manifest = format!("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent}}\nspec:\n{}", pod_template("agent", Some("ghost")));
    let agent = apply_fails(&ns, &manifest, "DaemonSet", "agent");
    let reason = failed_create(&agent, "DaemonSet");
    assert!(reason["message"].as_str().unwrap().contains(r#"serviceaccount "ghost" not found"#), "{reason:#}");
    assert!(agent["message"].as_str().unwrap().starts_with(r#"daemon set "agent" cannot create pods: "#), "{agent:#}");
}

/// The v1.20 test bed has no metrics API, so the HPA controller reports ScalingActive=False.
#[test]
fn an_autoscaler_without_a_metrics_api_fails_with_the_controllers_reason() {
    let ns = TestNamespace::new("cf-hpa");
    let manifest = format!(
        "{}---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 1\n  maxReplicas: 3\n  targetCPUUtilizationPercentage: 80\n",
        rollwatch_testbed::deployment("web", 1, "nginx:1.19", "ready", "resources: {requests: {cpu: 100m}}", "")
    );
    let hpa = apply_fails(&ns, &manifest, "HorizontalPodAutoscaler", "web");
    let details = hpa["explanation"]["details"].as_array().expect("explanation details");
    assert!(details.iter().any(|d| d["reason"]["code"] == "FailedGetResourceMetric"), "{hpa:#}");
}
