//! Unschedulable pods judged by evidence: the nodes' allocatable, the cluster autoscaler's events
//! and whether one runs. Objects as the API server returns them (v1.20 to v1.33).

use jiff::Timestamp;
use rollwatch_verdict::capacity::Autoscaler;
use rollwatch_verdict::{ObjectRef, Policy, Snapshot, State, Verdict};
use serde_json::{Value, json};

/// When the scheduler marked the pod unschedulable.
const UNSCHEDULABLE_SINCE: &str = "2026-01-01T00:00:00Z";

fn at(seconds: i64) -> Timestamp {
    UNSCHEDULABLE_SINCE.parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_secs(seconds)
}

/// A node as kubelet registers it: 4 cores, about 8 GiB allocatable.
fn node(name: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("n-{name}"), "labels": {"kubernetes.io/hostname": name}},
        "spec": {"podCIDR": "10.1.0.0/24"},
        "status": {
            "capacity": {"cpu": cpu, "memory": "8152564Ki", "pods": "110", "ephemeral-storage": "102687672Ki"},
            "allocatable": {"cpu": cpu, "memory": "8050164Ki", "pods": "110", "ephemeral-storage": "94636958469"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2025-12-01T00:00:00Z"}],
            "nodeInfo": {"kubeletVersion": "v1.20.2", "architecture": "amd64", "operatingSystem": "linux", "bootID": "", "containerRuntimeVersion": "",
                         "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "osImage": "", "systemUUID": ""},
            "images": [{"names": ["shop/web@sha256:aa", "shop/web:1"], "sizeBytes": 123456}]
        }
    })
}

/// A pod the scheduler found no room for, its app container requesting `cpu`.
fn pending_pod(cpu: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-5d4f-x7k2p", "namespace": "shop", "uid": "p-web", "creationTimestamp": UNSCHEDULABLE_SINCE},
        "spec": {"containers": [{"name": "app", "image": "shop/web:1", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}],
                 "schedulerName": "default-scheduler", "priority": 0},
        "status": {"phase": "Pending", "qosClass": "Burstable",
                   "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": null, "lastTransitionTime": UNSCHEDULABLE_SINCE,
                                   "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient cpu."}]}
    })
}

/// An event of the cluster autoscaler about the pod, as it records them (`kubectl get events -o json`).
fn autoscaler_event(reason: &str, message: &str, seconds: i64) -> Value {
    let time = at(seconds).to_string();
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("web-5d4f-x7k2p.{reason}"), "namespace": "shop", "creationTimestamp": time},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-5d4f-x7k2p", "uid": "p-web", "apiVersion": "v1", "resourceVersion": "1"},
        "reason": reason, "message": message, "type": "Normal", "count": 1,
        "source": {"component": "cluster-autoscaler"}, "firstTimestamp": time, "lastTimestamp": time, "reportingComponent": "", "reportingInstance": ""
    })
}

fn judge(objects: &[Value], autoscaler: Autoscaler, seconds: i64) -> Verdict {
    let mut snapshot = Snapshot::new();
    snapshot.set_autoscaler(autoscaler);
    for object in objects {
        snapshot.upsert(object.clone()).unwrap_or_else(|e| panic!("fixture rejected: {e}"));
    }
    snapshot.verdict(&ObjectRef::new("Pod", Some("shop".into()), "web-5d4f-x7k2p"), &Policy::default(), at(seconds))
}

fn nodes() -> [Value; 3] {
    [node("node-a", "4"), node("node-b", "4"), node("node-c", "2")]
}

#[test]
fn a_pod_larger_than_every_node_fails_at_once_naming_the_request_and_the_largest_node() {
    let objects: Vec<Value> = nodes().into_iter().chain([pending_pod("8")]).collect();
    for autoscaler in [Autoscaler::Unknown, Autoscaler::Absent, Autoscaler::Present] {
        let verdict = judge(&objects, autoscaler, 1);
        assert_eq!(verdict.state, State::Failed, "{verdict:?}");
        assert_eq!(
            verdict.reasons[0].message,
            "requests cpu 8, more than any node has (the largest, node-a, has 4 allocatable); the scheduler: 0/3 nodes are available: 3 Insufficient cpu."
        );
        assert_eq!(verdict.reasons[0].code, "Unschedulable");
    }
    // Without the nodes, nothing tells it will never fit: the grace applies.
    assert_eq!(judge(&[pending_pod("8")], Autoscaler::Unknown, 1).state, State::Progressing);
}

#[test]
fn a_pod_that_fits_a_node_but_not_now_waits_as_long_as_a_node_may_be_added() {
    let objects: Vec<Value> = nodes().into_iter().chain([pending_pod("3")]).collect();
    // No cluster autoscaler: no node will come, a short grace for pods being deleted.
    assert_eq!(judge(&objects, Autoscaler::Absent, 10).state, State::Progressing);
    let alone = judge(&objects, Autoscaler::Absent, 15);
    assert_eq!(alone.state, State::Failed, "{alone:?}");
    assert_eq!(alone.reasons[0].message, "0/3 nodes are available: 3 Insufficient cpu. (no cluster autoscaler runs to add a node)");
    // An autoscaler, or none known of: the full --unschedulable-grace (120 s by default).
    for autoscaler in [Autoscaler::Present, Autoscaler::Unknown] {
        assert_eq!(judge(&objects, autoscaler, 60).state, State::Progressing, "{autoscaler:?}");
        assert_eq!(judge(&objects, autoscaler, 120).state, State::Failed, "{autoscaler:?}");
    }
}

#[test]
fn the_cluster_autoscalers_not_trigger_scale_up_fails_at_once_and_a_scale_up_waits() {
    let refused = "pod didn't trigger scale-up: 1 max node group size reached";
    let mut objects: Vec<Value> = nodes().into_iter().chain([pending_pod("3"), autoscaler_event("NotTriggerScaleUp", refused, 5)]).collect();
    let verdict = judge(&objects, Autoscaler::Present, 6);
    assert_eq!(verdict.state, State::Failed, "{verdict:?}");
    assert_eq!(verdict.reasons[0].code, "NotTriggerScaleUp");
    assert_eq!(verdict.reasons[0].message, format!("the cluster autoscaler will not add a node: {refused}"));

    // A later scale-up replaces the refusal: the pod waits up to the grace.
    let scaling = "pod triggered scale-up: [{shop-large 1->2 (max: 5)}]";
    objects.push(autoscaler_event("TriggeredScaleUp", scaling, 8));
    let waiting = judge(&objects, Autoscaler::Present, 60);
    assert_eq!(waiting.state, State::Progressing, "{waiting:?}");
    assert!(waiting.reasons[0].message.ends_with(&format!("; the cluster autoscaler: {scaling}")), "{waiting:?}");
    assert_eq!(judge(&objects, Autoscaler::Present, 120).state, State::Failed);
}

#[test]
fn a_scale_up_of_another_node_group_overrules_the_fit_of_the_nodes_there_are() {
    let scaling = "pod triggered scale-up: [{gpu-large 0->1 (max: 3)}]";
    let objects: Vec<Value> = nodes().into_iter().chain([pending_pod("8"), autoscaler_event("TriggeredScaleUp", scaling, 3)]).collect();
    assert_eq!(judge(&objects, Autoscaler::Present, 60).state, State::Progressing);
}

#[test]
fn the_autoscalers_status_config_map_in_a_dump_says_one_runs() {
    let status = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-autoscaler-status", "namespace": "kube-system"},
                        "data": {"status": "Cluster-autoscaler status at 2026-01-01 00:00:00: Health: Healthy"}});
    let objects: Vec<Value> = nodes().into_iter().chain([pending_pod("3"), status]).collect();
    assert_eq!(judge(&objects, Autoscaler::Absent, 60).state, State::Progressing);
}

#[test]
fn a_node_with_an_unreadable_allocatable_is_refused_naming_the_field() {
    let mut bad = node("node-a", "4");
    bad["status"]["allocatable"]["memory"] = json!("lots");
    let error = Snapshot::new().upsert(bad).unwrap_err();
    assert_eq!(error.object, "node/node-a");
    assert_eq!(error.field, "status.allocatable.memory");
    assert!(error.problem.contains("invalid quantity \"lots\""), "{error}");
}
