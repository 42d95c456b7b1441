//! `Snapshot::family` and `Snapshot::events_about`: what an explanation of a verdict reads.

use rollwatch_verdict::{ObjectRef, Snapshot, parse_documents};

const CLUSTER: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop, uid: r1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1-a, namespace: shop, uid: p1, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: r1, controller: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: shop, uid: p2}
---
apiVersion: v1
kind: Event
metadata: {name: web-1-a.1, namespace: shop}
involvedObject: {kind: Pod, name: web-1-a, namespace: shop}
type: Warning
reason: BackOff
message: Back-off restarting failed container
"#;

fn snapshot() -> Snapshot {
    let mut snapshot = Snapshot::new();
    for object in parse_documents(CLUSTER, "cluster.yaml").unwrap() {
        snapshot.upsert(object).unwrap();
    }
    snapshot
}

fn object(kind: &str, name: &str) -> ObjectRef {
    ObjectRef::new(kind, Some("shop".into()), name)
}

#[test]
fn a_family_is_the_object_and_all_it_owns_down_the_chain() {
    let mut family = snapshot().family(&object("Deployment", "web"));
    family.sort();
    assert_eq!(family, vec![object("Deployment", "web"), object("Pod", "web-1-a"), object("ReplicaSet", "web-1")]);
}

#[test]
fn a_missing_object_is_its_own_family_and_has_no_events() {
    let snapshot = snapshot();
    assert_eq!(snapshot.family(&object("Deployment", "gone")), vec![object("Deployment", "gone")]);
    assert_eq!(snapshot.events_about(&object("Deployment", "gone")).count(), 0);
}

#[test]
fn events_are_found_by_the_object_they_are_about() {
    let snapshot = snapshot();
    let reasons: Vec<_> = snapshot.events_about(&object("Pod", "web-1-a")).filter_map(|e| e.reason.clone()).collect();
    assert_eq!(reasons, vec!["BackOff".to_string()]);
}
