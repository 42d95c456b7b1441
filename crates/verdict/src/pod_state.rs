//! Where one pod is in its life, as a timeline draws it: one coarse state per pod (pending,
//! unschedulable, pulling, starting, running-not-ready, ready, crash-looping, terminated,
//! deleted), its revision and restarts, read from a Pod object alone.
//!
//! This is a picture, not a verdict: a crash-looping pod within `--allowed-restarts` is drawn as
//! crash-looping all the same. The states follow what the kubelet writes: `PodScheduled=False`
//! with reason `Unschedulable` is unschedulable; a container waiting in `ContainerCreating`
//! before its image is known (no `imageID` yet), or in a pull error, is pulling; a container
//! waiting in `CrashLoopBackOff`, or ended with a non-zero exit in a pod that restarts it, is
//! crash-looping. Pure: a Pod as JSON in.

use serde::Serialize;
use serde_json::Value;

/// A pod's state on a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PodState {
    /// Not bound to a node yet, and the scheduler has not said it cannot be.
    Pending,
    /// The scheduler found no node for it.
    Unschedulable,
    /// Bound; an image is being pulled or its pull fails.
    Pulling,
    /// Bound; containers (init containers included) are being created or started.
    Starting,
    /// Containers run, and the pod is not Ready (a readiness probe not passed yet).
    RunningNotReady,
    Ready,
    /// A container keeps crashing and being restarted.
    CrashLooping,
    /// Being deleted, or done (Succeeded or Failed).
    Terminated,
    /// Gone from the cluster; only a watcher that saw it go can tell.
    Deleted,
}

impl PodState {
    /// Every state, in the order of a legend.
    pub const ALL: [PodState; 9] = [
        PodState::Pending,
        PodState::Unschedulable,
        PodState::Pulling,
        PodState::Starting,
        PodState::RunningNotReady,
        PodState::Ready,
        PodState::CrashLooping,
        PodState::Terminated,
        PodState::Deleted,
    ];

    /// The JSON name (`running_not_ready`).
    pub fn as_str(self) -> &'static str {
        match self {
            PodState::Pending => "pending",
            PodState::Unschedulable => "unschedulable",
            PodState::Pulling => "pulling",
            PodState::Starting => "starting",
            PodState::RunningNotReady => "running_not_ready",
            PodState::Ready => "ready",
            PodState::CrashLooping => "crash_looping",
            PodState::Terminated => "terminated",
            PodState::Deleted => "deleted",
        }
    }

    /// The state a JSON name stands for.
    pub fn from_name(name: &str) -> Option<PodState> {
        PodState::ALL.into_iter().find(|state| state.as_str() == name)
    }
}

/// What a timeline shows of one version of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodLook {
    pub state: PodState,
    /// The revision its controller stamped on it: the `pod-template-hash` label (Deployments'
    /// ReplicaSets) or `controller-revision-hash` (StatefulSets, DaemonSets).
    pub revision: Option<String>,
    /// Container restarts, added up over init and app containers.
    pub restarts: u32,
    /// Why it is in that state, in the kubelet's words: `CrashLoopBackOff: back-off 10s ...`,
    /// the scheduler's message, the last exit (`Error, exit code 3`).
    pub detail: Option<String>,
}

/// The timeline's view of a pod.
pub fn look(pod: &Value) -> PodLook {
    let labels = pod.pointer("/metadata/labels");
    let revision = ["pod-template-hash", "controller-revision-hash"]
        .iter()
        .find_map(|label| labels.and_then(|l| l.get(*label)).and_then(Value::as_str))
        .map(str::to_string);
    let containers: Vec<&Value> = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}")).and_then(Value::as_array))
        .flatten()
        .collect();
    let restarts = containers
        .iter()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_u64))
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        .fold(0u32, u32::saturating_add);
    let (state, detail) = state_of(pod, &containers);
    PodLook { state, revision, restarts, detail }
}

fn state_of(pod: &Value, containers: &[&Value]) -> (PodState, Option<String>) {
    let status = |path: &str| pod.pointer(path).and_then(Value::as_str);
    let phase = status("/status/phase").unwrap_or("Pending");
    if pod.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return (PodState::Terminated, Some("being deleted".into()));
    }
    if matches!(phase, "Succeeded" | "Failed") {
        return (PodState::Terminated, Some(phase.to_string()));
    }
    let scheduled = condition(pod, "PodScheduled");
    if let Some(scheduled) = scheduled.filter(|c| c.get("status").and_then(Value::as_str) == Some("False")) {
        let state = if scheduled.get("reason").and_then(Value::as_str) == Some("Unschedulable") { PodState::Unschedulable } else { PodState::Pending };
        return (state, scheduled.get("message").and_then(Value::as_str).map(str::to_string));
    }
    if status("/spec/nodeName").is_none() && scheduled.is_none() {
        return (PodState::Pending, None);
    }
    let waiting = |container: &Value, reasons: &[&str]| {
        let waiting = container.pointer("/state/waiting")?;
        let reason = waiting.get("reason").and_then(Value::as_str)?;
        reasons.contains(&reason).then(|| with_message(reason, waiting.get("message").and_then(Value::as_str)))
    };
    let restarts_crashes = pod.pointer("/spec/restartPolicy").and_then(Value::as_str) != Some("Never");
    for container in containers {
        if let Some(detail) = waiting(container, &["CrashLoopBackOff"]) {
            return (PodState::CrashLooping, Some(detail));
        }
        if let Some(ended) = container.pointer("/state/terminated")
            && restarts_crashes
            && ended.get("exitCode").and_then(Value::as_i64).is_some_and(|code| code != 0)
        {
            return (PodState::CrashLooping, Some(exit(ended)));
        }
    }
    for container in containers {
        if let Some(detail) = waiting(container, &["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"]) {
            return (PodState::Pulling, Some(detail));
        }
        let image_known = container.get("imageID").and_then(Value::as_str).is_some_and(|id| !id.is_empty());
        if !image_known && let Some(detail) = waiting(container, &["ContainerCreating"]) {
            return (PodState::Pulling, Some(detail));
        }
    }
    if condition(pod, "Ready").and_then(|c| c.get("status")).and_then(Value::as_str) == Some("True") {
        return (PodState::Ready, None);
    }
    let app = pod.pointer("/status/containerStatuses").and_then(Value::as_array);
    let running = app.is_some_and(|app| !app.is_empty() && app.iter().all(|c| c.pointer("/state/running").is_some()));
    if running {
        return (PodState::RunningNotReady, None);
    }
    let waiting_reason = containers.iter().find_map(|c| {
        let waiting = c.pointer("/state/waiting")?;
        Some(with_message(waiting.get("reason").and_then(Value::as_str)?, waiting.get("message").and_then(Value::as_str)))
    });
    (PodState::Starting, waiting_reason)
}

fn condition<'a>(pod: &'a Value, kind: &str) -> Option<&'a Value> {
    pod.pointer("/status/conditions")?.as_array()?.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn with_message(reason: &str, message: Option<&str>) -> String {
    match message.filter(|m| !m.is_empty()) {
        Some(message) => format!("{reason}: {message}"),
        None => reason.to_string(),
    }
}

/// `Error, exit code 3`: how a container instance ended.
fn exit(ended: &Value) -> String {
    let code = ended.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
    match ended.get("reason").and_then(Value::as_str) {
        Some(reason) => format!("{reason}, exit code {code}"),
        None => format!("exit code {code}"),
    }
}

/// How the last instance of a restarted container ended (`OOMKilled, exit code 137`), for the
/// hover text of a restart mark.
pub fn last_exit(pod: &Value) -> Option<String> {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}")).and_then(Value::as_array))
        .flatten()
        .filter(|c| c.get("restartCount").and_then(Value::as_u64).is_some_and(|n| n > 0))
        .find_map(|c| {
            let ended = c.pointer("/lastState/terminated")?;
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            Some(format!("container {name}: {}", exit(ended)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Deployment's pod as the API server serves it, with `status` as given.
    fn pod(status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-5d4f8-abcde", "namespace": "shop", "labels": {"app": "web", "pod-template-hash": "5d4f8"},
                         "creationTimestamp": "2026-11-30T10:00:00Z"},
            "spec": {"nodeName": "node-a", "restartPolicy": "Always", "containers": [{"name": "app", "image": "shop/web:2"}]},
            "status": status,
        })
    }

    fn app(state: Value, restarts: u32, image_id: &str) -> Value {
        json!({"name": "app", "image": "shop/web:2", "imageID": image_id, "ready": false, "restartCount": restarts, "state": state})
    }

    fn conditions(scheduled: Value, ready: &str) -> Value {
        json!([scheduled, {"type": "Ready", "status": ready}])
    }

    fn state(pod: &Value) -> PodState {
        look(pod).state
    }

    #[test]
    fn a_pod_the_scheduler_cannot_place_is_unschedulable_with_its_message() {
        let mut waiting = pod(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."}]}));
        waiting["spec"].as_object_mut().unwrap().remove("nodeName");
        let seen = look(&waiting);
        assert_eq!((seen.state, seen.detail.as_deref()), (PodState::Unschedulable, Some("0/3 nodes are available: 3 Insufficient cpu.")));
        let mut fresh = pod(json!({"phase": "Pending"}));
        fresh["spec"].as_object_mut().unwrap().remove("nodeName");
        assert_eq!(state(&fresh), PodState::Pending);
    }

    #[test]
    fn a_bound_pod_pulls_until_its_image_is_known_then_starts() {
        let scheduled = json!({"type": "PodScheduled", "status": "True"});
        let creating = json!({"waiting": {"reason": "ContainerCreating"}});
        let pulling =
            pod(json!({"phase": "Pending", "conditions": conditions(scheduled.clone(), "False"), "containerStatuses": [app(creating.clone(), 0, "")]}));
        assert_eq!(state(&pulling), PodState::Pulling);
        let backoff = pod(json!({"phase": "Pending", "conditions": conditions(scheduled.clone(), "False"),
            "containerStatuses": [app(json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"shop/web:2\""}}), 0, "")]}));
        assert_eq!(look(&backoff).detail.as_deref(), Some("ImagePullBackOff: Back-off pulling image \"shop/web:2\""));
        assert_eq!(state(&backoff), PodState::Pulling);
        let initializing = pod(json!({"phase": "Pending", "conditions": conditions(scheduled, "False"),
            "containerStatuses": [app(json!({"waiting": {"reason": "PodInitializing"}}), 0, "")]}));
        assert_eq!(state(&initializing), PodState::Starting);
    }

    #[test]
    fn running_containers_are_not_ready_until_the_ready_condition_says_so() {
        let scheduled = json!({"type": "PodScheduled", "status": "True"});
        let running = json!({"running": {"startedAt": "2026-11-30T10:00:02Z"}});
        let probing =
            pod(json!({"phase": "Running", "conditions": conditions(scheduled.clone(), "False"), "containerStatuses": [app(running.clone(), 0, "sha256:1")]}));
        assert_eq!(state(&probing), PodState::RunningNotReady);
        let ready = pod(json!({"phase": "Running", "conditions": conditions(scheduled, "True"), "containerStatuses": [app(running, 0, "sha256:1")]}));
        let seen = look(&ready);
        assert_eq!((seen.state, seen.revision.as_deref(), seen.restarts), (PodState::Ready, Some("5d4f8"), 0));
    }

    #[test]
    fn a_crash_loop_shows_from_the_crash_on_with_its_restarts_and_last_exit() {
        let scheduled = json!({"type": "PodScheduled", "status": "True"});
        let last = json!({"terminated": {"exitCode": 3, "reason": "Error"}});
        let mut crashed = app(json!({"terminated": {"exitCode": 3, "reason": "Error"}}), 1, "sha256:1");
        crashed["lastState"] = last.clone();
        let just_crashed = pod(json!({"phase": "Running", "conditions": conditions(scheduled.clone(), "False"), "containerStatuses": [crashed]}));
        let seen = look(&just_crashed);
        assert_eq!((seen.state, seen.restarts, seen.detail.as_deref()), (PodState::CrashLooping, 1, Some("Error, exit code 3")));
        let mut backing_off = app(json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container"}}), 2, "sha256:1");
        backing_off["lastState"] = last;
        let looping = pod(json!({"phase": "Running", "conditions": conditions(scheduled, "False"), "containerStatuses": [backing_off]}));
        assert_eq!(state(&looping), PodState::CrashLooping);
        assert_eq!(look(&looping).restarts, 2);
        assert_eq!(last_exit(&looping).as_deref(), Some("container app: Error, exit code 3"));
    }

    #[test]
    fn a_pod_being_deleted_or_done_is_terminated_and_a_statefulset_pod_has_its_revision() {
        let mut deleting = pod(json!({"phase": "Running"}));
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-30T10:01:00Z");
        assert_eq!(state(&deleting), PodState::Terminated);
        assert_eq!(state(&pod(json!({"phase": "Succeeded"}))), PodState::Terminated);
        let mut ordinal = pod(json!({"phase": "Pending"}));
        ordinal["metadata"]["labels"] = json!({"controller-revision-hash": "db-7c9d"});
        assert_eq!(look(&ordinal).revision.as_deref(), Some("db-7c9d"));
    }

    #[test]
    fn names_read_back_as_their_states() {
        for state in PodState::ALL {
            assert_eq!(PodState::from_name(state.as_str()), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), json!(state.as_str()));
        }
        assert_eq!(PodState::from_name("running"), None);
    }
}
