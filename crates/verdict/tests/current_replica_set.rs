//! Which ReplicaSet is a Deployment's current one: the newest, if its template is the
//! Deployment's. Templates are compared whole, though a snapshot keeps only the fields rollwatch
//! reads: a change in a field no rule reads (an env var, the annotation `rollout restart` sets) is
//! a new template all the same, and the pods of the old ReplicaSet are not the rollout's.

use rollwatch_verdict::{ObjectRef, Policy, Snapshot, State, parse_documents};

/// A Deployment whose template's env and annotations are `env` and `annotations`, and the
/// ReplicaSet of its previous rollout (env `MODE=old`, no annotations) with a crash-looping pod.
fn cluster(env: &str, annotations: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop, uid: d1, generation: 2}}
spec:
  replicas: 1
  template:
    metadata: {{labels: {{app: web}}, annotations: {annotations}}}
    spec: {{containers: [{{name: app, image: "web:1", env: [{env}]}}]}}
status: {{observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 1}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-old
  namespace: shop
  uid: r1
  annotations: {{deployment.kubernetes.io/revision: "1"}}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}}]
spec:
  replicas: 1
  template:
    metadata: {{labels: {{app: web, pod-template-hash: old}}, annotations: {{}}}}
    spec: {{containers: [{{name: app, image: "web:1", env: [{{name: MODE, value: old}}]}}]}}
status: {{replicas: 1}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-old-a
  namespace: shop
  uid: p1
  creationTimestamp: "2026-01-01T00:00:00Z"
  labels: {{app: web, pod-template-hash: old}}
  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-old, uid: r1, controller: true}}]
spec: {{nodeName: node-1, containers: [{{name: app, image: "web:1"}}]}}
status:
  phase: Running
  startTime: "2026-01-01T00:00:00Z"
  containerStatuses:
  - name: app
    image: "web:1"
    imageID: "web@sha256:1"
    ready: false
    restartCount: 10
    state: {{waiting: {{reason: CrashLoopBackOff, message: back-off 5m0s restarting failed container}}}}
    lastState: {{terminated: {{exitCode: 1, reason: Error, startedAt: "2026-01-01T00:09:00Z", finishedAt: "2026-01-01T00:09:01Z"}}}}
"#
    )
}

fn verdict_state(env: &str, annotations: &str) -> State {
    let mut snapshot = Snapshot::new();
    for object in parse_documents(&cluster(env, annotations), "cluster.yaml").unwrap() {
        snapshot.upsert(object).unwrap();
    }
    let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
    snapshot.verdict(&web, &Policy::default(), "2026-01-01T01:00:00Z".parse().unwrap()).state
}

#[test]
fn the_newest_replica_set_with_the_same_template_is_current_and_its_crash_loop_fails_the_rollout() {
    assert_eq!(verdict_state("{name: MODE, value: old}", "{}"), State::Failed);
}

#[test]
fn a_template_changed_only_in_an_env_var_is_not_the_old_replica_sets() {
    assert_eq!(verdict_state("{name: MODE, value: new}", "{}"), State::Progressing);
}

#[test]
fn a_restart_makes_a_new_template_though_only_an_annotation_changed() {
    let restarted = "{kubectl.kubernetes.io/restartedAt: \"2026-01-01T00:30:00Z\"}";
    assert_eq!(verdict_state("{name: MODE, value: old}", restarted), State::Progressing);
}
