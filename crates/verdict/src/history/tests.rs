use serde_json::{Value, json};

use super::diff::{Change, Scope, diff};
use super::*;

fn template(image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "web"});
    if let Some(hash) = hash {
        labels[POD_TEMPLATE_HASH_LABEL] = json!(hash);
    }
    json!({
        "metadata": {"creationTimestamp": null, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": image, "env": [{"name": "MODE", "value": "fast"}]}]}
    })
}

fn deployment(image: &str) -> Value {
    json!({
        "kind": "Deployment",
        "metadata": {"name": "web", "uid": "d1", "resourceVersion": "42", "annotations": {
            REVISION_ANNOTATION: "3", "kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "shop"}},
        "spec": {"template": template(image, None)}
    })
}

fn replica_set(name: &str, revision: &str, image: &str, replicas: u64, cause: Option<&str>) -> Value {
    let mut annotations = json!({REVISION_ANNOTATION: revision, "team": "old"});
    if let Some(cause) = cause {
        annotations[CHANGE_CAUSE_ANNOTATION] = json!(cause);
    }
    json!({
        "kind": "ReplicaSet",
        "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z", "annotations": annotations,
                     "ownerReferences": [{"uid": "d1", "controller": true}]},
        "spec": {"template": template(image, Some(name))},
        "status": {"replicas": replicas}
    })
}

fn web_history() -> Vec<Revision> {
    let owned = [
        replica_set("web-c", "3", "web:3", 2, Some("rollwatch set image deployment/web app=web:3")),
        replica_set("web-a", "1", "web:1", 0, None),
        replica_set("web-b", "2", "web:2", 1, None),
        // Another Deployment's ReplicaSet with the same labels is not part of this history.
        json!({"metadata": {"name": "other", "annotations": {REVISION_ANNOTATION: "9"}, "ownerReferences": [{"uid": "d2", "controller": true}]}}),
    ];
    revisions(&deployment("web:3"), &owned, &[]).unwrap()
}

#[test]
fn a_deployments_revisions_come_from_its_replica_sets_oldest_first() {
    let history = web_history();
    let summary: Vec<_> = history.iter().map(|r| (r.number, r.name.as_str(), r.pods, r.current, r.images.clone())).collect();
    assert_eq!(
        summary,
        vec![
            (1, "web-a", 0, false, vec!["web:1".to_string()]),
            (2, "web-b", 1, false, vec!["web:2".to_string()]),
            (3, "web-c", 2, true, vec!["web:3".to_string()]),
        ]
    );
    assert_eq!(history[2].change_cause.as_deref(), Some("rollwatch set image deployment/web app=web:3"));
    assert_eq!(history[0].created, Some("2026-01-01T00:00:00Z".parse().unwrap()));
    assert!(history[0].template["metadata"]["labels"].get(POD_TEMPLATE_HASH_LABEL).is_none(), "the hash label is the controller's");
}

#[test]
fn a_statefulsets_revisions_count_pods_by_revision_name_and_a_daemonsets_by_hash() {
    let revision = |owner: &str, name: &str, hash: &str, number: i64, image: &str| {
        let mut data_template = template(image, None);
        data_template["$patch"] = json!("replace");
        json!({
            "kind": "ControllerRevision", "revision": number,
            "metadata": {"name": name, "labels": {REVISION_HASH_LABEL: hash}, "ownerReferences": [{"uid": owner, "controller": true}]},
            "data": {"spec": {"template": data_template}}
        })
    };
    let pod = |owner: &str, label: &str, terminating: bool| {
        let mut pod = json!({"metadata": {"labels": {REVISION_HASH_LABEL: label}, "ownerReferences": [{"uid": owner}]}, "status": {"phase": "Running"}});
        if terminating {
            pod["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        }
        pod
    };
    let db = json!({"kind": "StatefulSet", "metadata": {"uid": "s1"}, "spec": {"template": template("db:2", None)}});
    let owned = [revision("s1", "db-111", "111", 1, "db:1"), revision("s1", "db-222", "222", 2, "db:2")];
    let pods = [pod("s1", "db-111", false), pod("s1", "db-222", false), pod("s1", "db-222", false), pod("s1", "db-111", true)];
    let history = revisions(&db, &owned, &pods).unwrap();
    assert_eq!(history.iter().map(|r| (r.number, r.pods, r.current)).collect::<Vec<_>>(), vec![(1, 1, false), (2, 2, true)]);
    assert!(history[1].template.get("$patch").is_none());

    let agent = json!({"kind": "DaemonSet", "metadata": {"uid": "a1"}, "spec": {"template": template("agent:1", None)}});
    let owned = [revision("a1", "agent-111", "111", 1, "agent:1"), revision("a1", "agent-222", "222", 2, "agent:2")];
    let pods = [pod("a1", "111", false), pod("a1", "111", false), pod("a1", "222", false)];
    let history = revisions(&agent, &owned, &pods).unwrap();
    assert_eq!(history.iter().map(|r| (r.number, r.pods, r.current)).collect::<Vec<_>>(), vec![(1, 2, true), (2, 1, false)]);
}

#[test]
fn only_workloads_with_revisions_have_a_history() {
    let job = json!({"kind": "Job", "metadata": {"uid": "j1"}});
    assert_eq!(revisions(&job, &[], &[]), Err(HistoryError::NoHistoryForKind { kind: "Job".into() }));
}

#[test]
fn undo_goes_to_the_newest_but_one_revision_or_the_one_asked_for() {
    let history = web_history();
    assert!(matches!(undo_target(&history, None), Ok(UndoTarget::Restore(r)) if r.number == 2));
    assert!(matches!(undo_target(&history, Some(1)), Ok(UndoTarget::Restore(r)) if r.number == 1));
    assert!(matches!(undo_target(&history, Some(3)), Ok(UndoTarget::AlreadyCurrent(r)) if r.number == 3));
    let missing = undo_target(&history, Some(7)).unwrap_err();
    assert_eq!(missing, HistoryError::RevisionNotFound { wanted: 7, available: vec![1, 2, 3] });
    assert_eq!(missing.to_string(), "revision 7 not found in the history (revisions: 1, 2, 3)");
    assert_eq!(undo_target(&history[..1], None).unwrap_err(), HistoryError::NoEarlierRevision { only: 1 });
    assert_eq!(undo_target(&[], None).unwrap_err(), HistoryError::Empty);
}

#[test]
fn a_deployment_undo_restores_the_template_and_the_replica_sets_annotations_as_kubectl_does() {
    let history = web_history();
    let UndoPatch::Json(patch) = undo_patch(&deployment("web:3"), &history[0], "rollwatch undo deployment/web") else {
        panic!("a Deployment is undone with a JSON patch");
    };
    assert_eq!(patch[0], json!({"op": "replace", "path": "/spec/template", "value": normalize_template(&template("web:1", Some("web-a")))}));
    let annotations = &patch[1]["value"];
    assert_eq!(annotations[REVISION_ANNOTATION], "3", "the Deployment's own revision annotation stays");
    assert_eq!(annotations["kubectl.kubernetes.io/last-applied-configuration"], "{}");
    assert_eq!(annotations["team"], "old", "other annotations come back from the ReplicaSet");
    assert_eq!(annotations[CHANGE_CAUSE_ANNOTATION], "rollwatch undo deployment/web");
}

#[test]
fn a_statefulset_undo_is_the_revisions_data_as_a_strategic_patch() {
    let sts = json!({"kind": "StatefulSet", "metadata": {"uid": "s1", "resourceVersion": "7"}, "spec": {"template": template("db:2", None)}});
    let owned = [json!({"kind": "ControllerRevision", "revision": 1, "metadata": {"name": "db-1", "ownerReferences": [{"uid": "s1", "controller": true}]},
                         "data": {"spec": {"template": template("db:1", None)}}})];
    let history = revisions(&sts, &owned, &[]).unwrap();
    let UndoPatch::Strategic(patch) = undo_patch(&sts, &history[0], "rollwatch undo sts/db") else { panic!("strategic") };
    assert_eq!(patch["spec"]["template"]["$patch"], "replace");
    assert_eq!(patch["spec"]["template"]["spec"]["containers"][0]["image"], "db:1");
    assert_eq!(patch["metadata"], json!({"annotations": {CHANGE_CAUSE_ANNOTATION: "rollwatch undo sts/db"}}));
}

fn change(scope: Scope, field: &str, from: Option<&str>, to: Option<&str>) -> Change {
    Change { scope, field: field.into(), from: from.map(str::to_string), to: to.map(str::to_string) }
}

#[test]
fn the_diff_names_images_env_resources_probes_and_other_fields() {
    let app = || Scope::Container("app".into());
    let old = json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": {"serviceAccountName": "web", "containers": [
            {"name": "app", "image": "web:1", "imagePullPolicy": "IfNotPresent",
             "env": [{"name": "MODE", "value": "fast"}, {"name": "OLD", "value": "x"}],
             "resources": {},
             "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}},
            {"name": "sidecar", "image": "proxy:1"}
        ]}
    });
    let new = json!({
        "metadata": {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}},
        "spec": {"serviceAccountName": "web-v2", "containers": [
            {"name": "app", "image": "web:2", "imagePullPolicy": "IfNotPresent",
             "env": [{"name": "MODE", "value": "safe"}, {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}],
             "resources": {"limits": {"memory": "256Mi"}},
             "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5, "failureThreshold": 3}},
            {"name": "metrics", "image": "exporter:1"}
        ]}
    });
    assert_eq!(
        diff(&old, &new),
        vec![
            change(Scope::Pod, "annotation kubectl.kubernetes.io/restartedAt", None, Some("2026-01-01T00:00:00Z")),
            change(Scope::Pod, "spec.serviceAccountName", Some("web"), Some("web-v2")),
            change(app(), "image", Some("web:1"), Some("web:2")),
            change(app(), "env DB", None, Some("from secretKeyRef db/url")),
            change(app(), "env MODE", Some("fast"), Some("safe")),
            change(app(), "env OLD", Some("x"), None),
            change(app(), "readinessProbe", Some("httpGet :8080/healthz, every 10s"), Some("httpGet :8080/ready, every 5s, failures 3")),
            change(app(), "resources.limits.memory", None, Some("256Mi")),
            change(Scope::Container("metrics".into()), "container", None, Some("image exporter:1")),
            change(Scope::Container("sidecar".into()), "container", Some("image proxy:1"), None),
        ]
    );
}

#[test]
fn identical_templates_have_no_diff_and_lists_that_differ_are_shown_whole() {
    let history = web_history();
    assert!(diff(&history[2].template, &history[2].template).is_empty());
    let ports = |list: Value| json!({"spec": {"containers": [{"name": "app", "ports": list}]}});
    assert_eq!(
        diff(&ports(json!([{"containerPort": 80}])), &ports(json!([{"containerPort": 8080}]))),
        vec![change(Scope::Container("app".into()), "ports", Some(r#"[{"containerPort":80}]"#), Some(r#"[{"containerPort":8080}]"#))]
    );
}
