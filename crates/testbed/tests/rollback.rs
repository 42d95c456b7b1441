//! Rollback after a partial apply, and rollback that never undoes another writer's change.
//!
//! A ResourceQuota makes an apply stop midway: it allows one more Service, and the manifests hold
//! two. The dry run passes for each (it charges nothing), so the second Service is refused only
//! when it is really created, after the Deployment and the first Service are applied.

use std::time::Duration;

use rollwatch_testbed::{TestNamespace, deployment, wait_for};

fn service(name: &str) -> String {
    format!("apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: web}}, ports: [{{port: 80, protocol: TCP}}]}}\n")
}

fn image_of(ns: &TestNamespace) -> String {
    ns.get("deployment/web")["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().to_string()
}

/// Deploys web at nginx:1.19 (revision 1) and waits until it is ready.
fn deploy_first_revision(ns: &TestNamespace) {
    let first = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &deployment("web", 2, "nginx:1.19", "ready", "", ""));
    assert_eq!(first.code, Some(0), "{}", first.output());
}

#[test]
fn an_apply_that_stops_midway_reports_what_was_applied_exits_1_and_rolls_back() {
    let ns = TestNamespace::new("partial");
    deploy_first_revision(&ns);
    ns.apply("apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: one-service}\nspec: {hard: {services: \"1\"}}\n").ok();
    // The quota admits nothing until the controller has counted what the namespace holds.
    wait_for("the quota's usage", Duration::from_secs(60), || ns.get("resourcequota/one-service")["status"]["used"]["services"].as_str().map(drop));

    let manifests = [deployment("web", 2, "nginx:1.20", "ready", "", ""), service("first"), service("second")].join("\n---\n");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--rollback-on-failure", "--timeout", "2m"], &manifests);
    let said = run.output();
    assert_eq!(run.code, Some(1), "a partial apply is a failed rollout, not a manifest error:\n{said}");
    assert!(said.contains("server dry run passed for 3 objects"), "{said}");
    assert!(said.contains("the apply stopped after 2 of 3 objects"), "{said}");
    assert!(said.contains("exceeded quota"), "the server's reason is given:\n{said}");
    assert!(said.contains("applied: deployment/web, service/first"), "{said}");
    assert!(said.contains("not applied: service/second"), "{said}");
    assert!(said.contains("rolled back to revision 1 (images: nginx:1.19)"), "{said}");
    assert!(said.contains("rollback complete: the previous revision is ready again"), "{said}");
    assert_eq!(image_of(&ns), "nginx:1.19");
}

#[test]
fn rollback_keeps_a_change_that_another_writer_made_meanwhile() {
    let ns = TestNamespace::new("concurrent");
    deploy_first_revision(&ns);
    let run = ns.spawn_rollwatch(&[
        "set",
        "image",
        "deployment/web",
        "app=nginx:does-not-exist",
        "--rollback-on-failure",
        "--waiting-grace",
        "20s",
        "--timeout",
        "3m",
    ]);
    wait_for("rollwatch's image change", Duration::from_secs(60), || (image_of(&ns) == "nginx:does-not-exist").then_some(()));
    // Another writer, between rollwatch's change and its rollback: their revision must stay.
    ns.kubectl(&["set", "image", "deployment/web", "app=nginx:also-does-not-exist"]).ok();

    let run = run.finish(Duration::from_secs(240));
    let said = run.output();
    assert_eq!(run.code, Some(1), "the rollout still failed:\n{said}");
    assert!(said.contains("not rolled back: another writer changed its template after this run did; their change is kept"), "{said}");
    assert!(!said.contains("rolled back to revision"), "{said}");
    assert_eq!(image_of(&ns), "nginx:also-does-not-exist", "the other writer's change is kept");
}

#[test]
fn a_rollout_that_times_out_is_rolled_back_when_asked() {
    let ns = TestNamespace::new("timeoutback");
    deploy_first_revision(&ns);
    // Pulling takes ten minutes: not a failure, just not done within the timeout.
    let slow = deployment("web", 2, "nginx:1.20", "ready pull=600s", "", "");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--rollback-on-failure", "--timeout", "15s"], &slow);
    let said = run.output();
    assert_eq!(run.code, Some(3), "not ready in time:\n{said}");
    assert!(said.contains("rolled back to revision 1 (images: nginx:1.19)"), "{said}");
    // The recovery gets no fresh timeout: the rollback is started, not followed.
    assert!(said.contains("rollback started, not followed: the timeout has passed"), "{said}");
    assert_eq!(image_of(&ns), "nginx:1.19");
}
