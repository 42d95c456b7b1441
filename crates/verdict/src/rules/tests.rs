use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{RuleSet, check_annotations};
use crate::{ObjectRef, Policy, Snapshot, State, Verdict};

const WIDGETS: &str = r#"
rules:
- group: example.com
  kind: Widget
  ready: "has(self.status) && self.status.phase == 'Running'"
  failed: "has(self.status) && self.status.phase == 'Broken'"
  progressing: "has(self.status) && has(self.status.rolling) && self.status.rolling"
  message: "self.status.detail"
"#;

fn widget(status: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop", "generation": 2}, "status": status})
}

fn judge_with(rules: &str, objects: &[Value]) -> Verdict {
    let rules = RuleSet::builtin().with_file(rules, "widgets.yaml").unwrap();
    let policy = Policy { rules: Arc::new(rules), ..Policy::default() };
    let mut snapshot = Snapshot::new();
    for object in objects {
        snapshot.upsert(object.clone()).unwrap();
    }
    snapshot.verdict(&ObjectRef::new("Widget", Some("shop".into()), "w"), &policy, Timestamp::UNIX_EPOCH)
}

fn judge(object: Value) -> Verdict {
    judge_with(WIDGETS, &[object])
}

#[test]
fn a_rule_says_ready_failed_or_progressing_with_its_message() {
    let ready = judge(widget(json!({"phase": "Running", "detail": "3 gears turning"})));
    assert_eq!((ready.state, ready.message.as_str()), (State::Ready, "widget.example.com/w is ready: 3 gears turning"));
    let failed = judge(widget(json!({"phase": "Broken", "detail": "no gears left"})));
    assert_eq!((failed.state, failed.message.as_str()), (State::Failed, "widget.example.com/w failed: no gears left"));
    assert_eq!(failed.reasons[0].code, "RuleFailed");
    let rolling = judge(widget(json!({"phase": "Running", "rolling": true, "detail": "1 of 3 gears new"})));
    assert_eq!((rolling.state, rolling.message.as_str()), (State::Progressing, "Waiting for widget.example.com/w: 1 of 3 gears new"));
    let neither = judge(widget(json!({"phase": "Pending"})));
    assert_eq!(neither.state, State::Progressing);
    assert_eq!(neither.message, "Waiting for widget.example.com/w to be ready: not ready yet", "a message that fails to evaluate leaves the default");
}

#[test]
fn ready_and_failed_both_true_is_failed() {
    let rules = WIDGETS.replace("self.status.phase == 'Broken'", "self.status.phase == 'Running'");
    let verdict = judge_with(&rules, &[widget(json!({"phase": "Running"}))]);
    assert_eq!(verdict.state, State::Failed);
}

#[test]
fn an_unobserved_generation_is_progressing_also_when_written_as_a_string() {
    for observed in [json!(1), json!("1")] {
        let verdict = judge(widget(json!({"phase": "Running", "observedGeneration": observed})));
        assert_eq!(
            (verdict.state, verdict.message.as_str()),
            (State::Progressing, "Waiting for widget.example.com/w spec update to be observed..."),
            "{observed}"
        );
    }
    let current = judge(widget(json!({"phase": "Running", "observedGeneration": "2"})));
    assert_eq!(current.state, State::Ready);
}

#[test]
fn a_rule_waits_while_the_ready_condition_is_for_an_older_generation() {
    // No status.observedGeneration: the Ready condition's own generation (1, behind the
    // object's 2) says the phase has not been recomputed for this spec yet.
    let stale = widget(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}]}));
    assert_eq!(judge(stale).state, State::Progressing);
    let current = widget(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}]}));
    assert_eq!(judge(current).state, State::Ready);
}

#[test]
fn a_runtime_error_is_the_verdicts_reason_not_a_panic() {
    // `self.status.phase` of a status without phase: no such key.
    let verdict = judge(widget(json!({"detail": "starting"})));
    assert_eq!(verdict.state, State::Unknown);
    assert_eq!(verdict.reasons[0].code, "RuleError");
    assert!(verdict.reasons[0].message.contains("rule example.com/Widget (widgets.yaml), field failed: No such key: phase"), "{}", verdict.reasons[0].message);
    let not_a_bool = judge_with(
        &WIDGETS.replace("ready: \"has(self.status) && self.status.phase == 'Running'\"", "ready: \"self.status.detail\""),
        &[widget(json!({"phase": "Pending", "detail": "x"}))],
    );
    assert_eq!(not_a_bool.state, State::Unknown);
    assert!(not_a_bool.message.contains("field ready: expected a bool, got string"), "{}", not_a_bool.message);
}

#[test]
fn a_rule_that_does_not_compile_names_the_file_the_rule_the_field_and_the_position() {
    let broken = WIDGETS.replace("failed: \"has(self.status) && self.status.phase == 'Broken'\"", "failed: \"self.status.phase == = 'Broken'\"");
    let error = RuleSet::builtin().with_file(&broken, "widgets.yaml").unwrap_err().to_string();
    assert!(error.starts_with("widgets.yaml: rules[0] (example.com/Widget), field failed: does not compile: line 1, column "), "{error}");
    let unknown_field = RuleSet::builtin().with_file(&WIDGETS.replace("message:", "mesage:"), "widgets.yaml").unwrap_err().to_string();
    assert!(unknown_field.starts_with("widgets.yaml: document 1, field rules[0].mesage: unknown field `mesage`"), "{unknown_field}");
    let no_ready = RuleSet::builtin().with_file("rules: [{group: a.io, kind: A, failed: 'false'}]", "a.yaml").unwrap_err().to_string();
    assert!(no_ready.contains("missing field `ready`"), "{no_ready}");
    let builtin_kind =
        RuleSet::builtin().with_file("rules: [{group: apps, kind: Deployment, ready: 'true', failed: 'false'}]", "a.yaml").unwrap_err().to_string();
    assert!(builtin_kind.starts_with("a.yaml: rules[0] (apps/Deployment), field group: rules are for custom resources"), "{builtin_kind}");
}

#[test]
fn a_rules_file_overrides_a_builtin_rule_by_group_and_kind() {
    let builtin = RuleSet::builtin();
    let rollout = |rules: &RuleSet| rules.list().into_iter().find(|rule| rule.name() == "argoproj.io/Rollout").map(|rule| rule.origin.clone());
    assert_eq!(rollout(&builtin).as_deref(), Some("built-in argo-rollouts.yaml"));
    let overridden = builtin.with_file("rules: [{group: argoproj.io, kind: Rollout, ready: 'true', failed: 'false'}]", "mine.yaml").unwrap();
    assert_eq!(rollout(&overridden).as_deref(), Some("mine.yaml"));
    assert_eq!(overridden.list().len(), builtin.list().len());
}

#[test]
fn annotations_give_an_object_its_own_rule_over_its_kinds() {
    let mut object = widget(json!({"phase": "Running", "replicas": 1}));
    object["metadata"]["annotations"] = json!({"rollwatch.dev/ready-when": "self.status.replicas >= 3"});
    assert_eq!(judge(object.clone()).state, State::Progressing, "ready-when replaces the kind's ready");
    object["metadata"]["annotations"]["rollwatch.dev/failed-when"] = json!("self.status.replicas == 1");
    assert_eq!(judge(object.clone()).state, State::Failed);
    // A kind without any rule: failed-when alone leaves readiness to the generic conditions.
    let mut gadget = json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g", "annotations": {"rollwatch.dev/failed-when": "self.status.errors > 0"}}, "status": {"errors": 0, "conditions": [{"type": "Ready", "status": "True"}]}});
    let mut snapshot = Snapshot::new();
    snapshot.upsert(gadget.clone()).unwrap();
    let key = ObjectRef::new("Gadget", None, "g");
    assert_eq!(snapshot.verdict(&key, &Policy::default(), Timestamp::UNIX_EPOCH).state, State::Ready);
    gadget["status"]["errors"] = json!(2);
    snapshot.upsert(gadget).unwrap();
    assert_eq!(snapshot.verdict(&key, &Policy::default(), Timestamp::UNIX_EPOCH).state, State::Failed);
}

#[test]
fn an_annotation_that_does_not_compile_is_an_error_naming_the_object_and_the_annotation() {
    let mut object = widget(json!({}));
    object["metadata"]["annotations"] = json!({"rollwatch.dev/ready-when": "self.status.( == 1"});
    let error = check_annotations(&object).unwrap_err().to_string();
    assert!(error.starts_with("widget.example.com/w: annotation rollwatch.dev/ready-when: does not compile: line 1, column "), "{error}");
    // Seen in the cluster, the same object fails with that error rather than waiting forever.
    let verdict = judge(object);
    assert_eq!((verdict.state, verdict.reasons[0].code.as_str()), (State::Failed, "InvalidRule"));
}

#[test]
fn skip_means_not_waited_for_whatever_the_kind() {
    let mut object = widget(json!({"phase": "Broken"}));
    object["metadata"]["annotations"] = json!({"rollwatch.dev/skip": "true"});
    let verdict = judge(object);
    assert_eq!((verdict.state, verdict.message.as_str()), (State::Ready, "widget.example.com/w is skipped (rollwatch.dev/skip): not waited for"));
    assert_eq!(verdict.reasons[0].code, "Skipped");
}

fn crd(status_subresource: bool) -> Value {
    let subresources = if status_subresource { json!({"status": {}}) } else { json!({}) };
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
                 "versions": [{"name": "v1", "served": true, "storage": true, "subresources": subresources}]}
    })
}

#[test]
fn a_status_subresource_without_status_waits_for_the_controller() {
    let fresh = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop"}});
    let waiting = judge_with(WIDGETS, &[crd(true), fresh.clone()]);
    assert_eq!((waiting.state, waiting.reasons[0].code.as_str()), (State::Progressing, "AwaitingStatus"));
    assert_eq!(waiting.message, "Waiting for the controller to report the status of widget.example.com/w...");
    let mut empty = fresh.clone();
    empty["status"] = json!({});
    assert_eq!(judge_with(WIDGETS, &[crd(true), empty]).reasons[0].code, "AwaitingStatus");
    // Without the CRD, or with one that has no status subresource: as before (no rule for this
    // kind in the defaults: the generic viewer's "no status: nothing to wait for").
    let mut snapshot = Snapshot::new();
    snapshot.upsert(crd(false)).unwrap();
    snapshot.upsert(fresh.clone()).unwrap();
    let key = ObjectRef::new("Widget", Some("shop".into()), "w");
    assert_eq!(snapshot.verdict(&key, &Policy::default(), Timestamp::UNIX_EPOCH).state, State::Ready);
    snapshot.upsert(crd(true)).unwrap();
    assert_eq!(snapshot.verdict(&key, &Policy::default(), Timestamp::UNIX_EPOCH).state, State::Progressing);
    snapshot.remove(&ObjectRef::new("CustomResourceDefinition", None, "widgets.example.com"));
    assert_eq!(snapshot.verdict(&key, &Policy::default(), Timestamp::UNIX_EPOCH).state, State::Ready);
}

#[test]
fn every_builtin_rule_compiles() {
    let rules = RuleSet::builtin();
    let names: Vec<String> = rules.list().iter().map(|rule| rule.name()).collect();
    for expected in [
        "argoproj.io/Rollout",
        "argoproj.io/Application",
        "cert-manager.io/Certificate",
        "cert-manager.io/Issuer",
        "cert-manager.io/ClusterIssuer",
        "kustomize.toolkit.fluxcd.io/Kustomization",
        "helm.toolkit.fluxcd.io/HelmRelease",
        "source.toolkit.fluxcd.io/GitRepository",
        "source.toolkit.fluxcd.io/OCIRepository",
        "keda.sh/ScaledObject",
        "serving.knative.dev/Service",
        "postgresql.cnpg.io/Cluster",
        "kafka.strimzi.io/Kafka",
        "monitoring.coreos.com/Prometheus",
        "*/*",
    ] {
        assert!(names.iter().any(|name| name == expected), "{expected} missing from {names:?}");
    }
}
