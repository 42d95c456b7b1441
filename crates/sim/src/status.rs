//! The pod's runtime state as the kubelet would hold it, and the pod status
//! it reports from that state. Pure: the driver mutates a [`PodRuntime`] and
//! asks it for the status to write.

use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What a container is doing now, in the API's three shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Waiting { reason: String, message: Option<String> },
    Running { started_at: Timestamp },
    Terminated { exit_code: i32, reason: String, started_at: Timestamp, finished_at: Timestamp },
}

impl State {
    pub fn waiting(reason: &str, message: Option<String>) -> State {
        State::Waiting { reason: reason.to_owned(), message }
    }

    fn to_json(&self, container_id: &str) -> Value {
        match self {
            State::Waiting { reason, message } => json!({"waiting": {"reason": reason, "message": message}}),
            State::Running { started_at } => json!({"running": {"startedAt": time(*started_at)}}),
            State::Terminated { exit_code, reason, started_at, finished_at } => json!({"terminated": {
                "exitCode": exit_code, "reason": reason, "startedAt": time(*started_at),
                "finishedAt": time(*finished_at), "containerID": container_id,
            }}),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ContainerRuntime {
    pub name: String,
    pub image: String,
    pub state: State,
    pub last_state: Option<State>,
    pub ready: bool,
    pub started: bool,
    pub restart_count: u32,
    /// Set once the image is on the node; a real kubelet reports imageID then.
    pub image_id: Option<String>,
    pub container_id: Option<String>,
    /// Terminated for good: the restart policy does not bring it back.
    pub finished: bool,
}

impl ContainerRuntime {
    pub fn new(name: &str, image: &str) -> Self {
        ContainerRuntime {
            name: name.to_owned(),
            image: image.to_owned(),
            state: State::waiting("ContainerCreating", None),
            last_state: None,
            ready: false,
            started: false,
            restart_count: 0,
            image_id: None,
            container_id: None,
            finished: false,
        }
    }

    fn succeeded(&self) -> bool {
        matches!(self.state, State::Terminated { exit_code: 0, .. })
    }

    fn to_json(&self) -> Value {
        let id = self.container_id.clone().unwrap_or_default();
        let mut status = json!({
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id.clone().unwrap_or_default(),
            "ready": self.ready,
            "started": self.started,
            "restartCount": self.restart_count,
            "state": self.state.to_json(&id),
            "lastState": self.last_state.as_ref().map_or(json!({}), |s| s.to_json(&id)),
        });
        if !id.is_empty() {
            status["containerID"] = json!(id);
        }
        status
    }
}

#[derive(Debug, Clone)]
pub struct PodRuntime {
    pub init: Vec<ContainerRuntime>,
    pub app: Vec<ContainerRuntime>,
    pub pod_ip: String,
    pub start_time: Timestamp,
    /// Condition type -> (status, last transition), so transitions keep their time.
    conditions: BTreeMap<&'static str, (bool, Timestamp)>,
}

impl PodRuntime {
    pub fn new(init: Vec<ContainerRuntime>, app: Vec<ContainerRuntime>, pod_ip: String, now: Timestamp) -> Self {
        PodRuntime { init, app, pod_ip, start_time: now, conditions: BTreeMap::new() }
    }

    pub fn initialized(&self) -> bool {
        self.init.iter().all(ContainerRuntime::succeeded)
    }

    pub fn phase(&self) -> &'static str {
        if self.init.iter().any(|c| c.finished && !c.succeeded()) {
            return "Failed";
        }
        if !self.initialized() {
            return "Pending";
        }
        if !self.app.is_empty() && self.app.iter().all(|c| c.finished) {
            return if self.app.iter().all(ContainerRuntime::succeeded) { "Succeeded" } else { "Failed" };
        }
        if self.app.iter().any(|c| c.started || c.restart_count > 0 || matches!(c.state, State::Running { .. } | State::Terminated { .. })) {
            "Running"
        } else {
            "Pending"
        }
    }

    fn set_condition(&mut self, kind: &'static str, status: bool, now: Timestamp) -> Timestamp {
        let entry = self.conditions.entry(kind).or_insert((status, now));
        if entry.0 != status {
            *entry = (status, now);
        }
        entry.1
    }

    /// The `status` object to write through `pods/status` (strategic merge:
    /// conditions merge by type, so the scheduler's PodScheduled stays, and a
    /// True condition nulls the reason and message it had while False, which
    /// the merge would otherwise keep).
    pub fn status(&mut self, now: Timestamp) -> Value {
        let phase = self.phase();
        let initialized = self.initialized();
        let all_ready = !self.app.is_empty() && self.app.iter().all(|c| c.ready);
        let not_ready: Vec<&str> = self.app.iter().filter(|c| !c.ready).map(|c| c.name.as_str()).collect();
        let not_initialized: Vec<&str> = self.init.iter().filter(|c| !c.succeeded()).map(|c| c.name.as_str()).collect();
        // As the kubelet's GeneratePodReadyCondition: PodCompleted only for a pod that
        // succeeded; a failed one is ContainersNotReady with its message, as a real node shows.
        let succeeded = phase == "Succeeded";
        let ready_reason = if succeeded { "PodCompleted" } else { "ContainersNotReady" };
        let mut conditions = Vec::new();
        for (kind, status, reason, message) in [
            ("Initialized", initialized, "ContainersNotInitialized", format!("containers with incomplete status: [{}]", not_initialized.join(" "))),
            ("Ready", all_ready, ready_reason, format!("containers with unready status: [{}]", not_ready.join(" "))),
            ("ContainersReady", all_ready, ready_reason, format!("containers with unready status: [{}]", not_ready.join(" "))),
        ] {
            let since = self.set_condition(kind, status, now);
            let mut condition =
                json!({"type": kind, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": time(since)});
            if status {
                condition["reason"] = Value::Null;
                condition["message"] = Value::Null;
            } else {
                condition["reason"] = json!(reason);
                condition["message"] = if succeeded { Value::Null } else { json!(message) };
            }
            conditions.push(condition);
        }
        let mut status = json!({
            "phase": phase,
            "conditions": conditions,
            "hostIP": "127.0.0.1",
            "podIP": self.pod_ip,
            "podIPs": [{"ip": self.pod_ip}],
            "startTime": time(self.start_time),
            // qosClass is left out: the API server sets it from the pod's resources at creation.
            "containerStatuses": self.app.iter().map(ContainerRuntime::to_json).collect::<Vec<_>>(),
        });
        if !self.init.is_empty() {
            status["initContainerStatuses"] = self.init.iter().map(ContainerRuntime::to_json).collect();
        }
        status
    }
}

/// Kubernetes' wire format for times: RFC 3339, whole seconds, UTC.
pub fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A one-line summary of a written pod status (phase, Ready, each container's state and reason),
/// logged with the time of the write so benchmarks can time what observers see against it.
pub fn summary(status: &Value) -> String {
    let ready = status["conditions"]
        .as_array()
        .and_then(|conditions| conditions.iter().find(|c| c["type"] == "Ready"))
        .map_or("?", |c| c["status"].as_str().unwrap_or("?"));
    let mut line = format!("phase={} ready={ready}", status["phase"].as_str().unwrap_or("?"));
    let containers = ["initContainerStatuses", "containerStatuses"].into_iter().flat_map(|key| status[key].as_array().into_iter().flatten());
    for container in containers {
        let (state, detail) = container["state"].as_object().and_then(|s| s.iter().next()).map_or(("?", &Value::Null), |(k, v)| (k.as_str(), v));
        line += &format!(" {}={state}", container["name"].as_str().unwrap_or("?"));
        if let Some(reason) = detail["reason"].as_str() {
            line += &format!("/{reason}");
        }
        line += &format!(" restarts={}", container["restartCount"]);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn pod() -> PodRuntime {
        PodRuntime::new(vec![ContainerRuntime::new("init", "busybox")], vec![ContainerRuntime::new("app", "nginx")], "10.1.0.2".into(), t(0))
    }

    fn condition<'a>(status: &'a Value, kind: &str) -> &'a Value {
        status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == kind).unwrap()
    }

    #[test]
    fn a_new_pod_is_pending_and_not_initialized() {
        let mut p = pod();
        let s = p.status(t(1));
        assert_eq!(s["phase"], "Pending");
        assert_eq!(condition(&s, "Initialized")["status"], "False");
        assert_eq!(condition(&s, "Initialized")["message"], "containers with incomplete status: [init]");
        assert_eq!(s["initContainerStatuses"][0]["state"]["waiting"]["reason"], "ContainerCreating");
    }

    #[test]
    fn ready_keeps_its_transition_time_until_it_changes() {
        let mut p = pod();
        p.init[0].state = State::Terminated { exit_code: 0, reason: "Completed".into(), started_at: t(1), finished_at: t(2) };
        p.app[0].state = State::Running { started_at: t(3) };
        p.app[0].started = true;
        p.status(t(3));
        p.app[0].ready = true;
        let s = p.status(t(5));
        assert_eq!(s["phase"], "Running");
        assert_eq!(condition(&s, "Ready")["status"], "True");
        assert_eq!(condition(&s, "Ready")["lastTransitionTime"], time(t(5)));
        let s = p.status(t(9));
        assert_eq!(condition(&s, "Ready")["lastTransitionTime"], time(t(5)), "unchanged condition keeps its time");
    }

    #[test]
    fn finished_containers_decide_succeeded_or_failed() {
        let mut p = PodRuntime::new(vec![], vec![ContainerRuntime::new("task", "busybox")], "10.1.0.3".into(), t(0));
        p.app[0].state = State::Terminated { exit_code: 2, reason: "Error".into(), started_at: t(1), finished_at: t(2) };
        p.app[0].finished = true;
        let s = p.status(t(2));
        assert_eq!(s["phase"], "Failed");
        // A real node: `Failed; Ready False (ContainersNotReady)` (FIDELITY.md, job-failure).
        assert_eq!(condition(&s, "Ready")["reason"], "ContainersNotReady");
        assert_eq!(condition(&s, "Ready")["message"], "containers with unready status: [task]");
        assert_eq!(s["containerStatuses"][0]["state"]["terminated"]["exitCode"], 2);
        p.app[0].state = State::Terminated { exit_code: 0, reason: "Completed".into(), started_at: t(1), finished_at: t(2) };
        assert_eq!(p.phase(), "Succeeded");
        let s = p.status(t(3));
        assert_eq!(condition(&s, "Ready")["reason"], "PodCompleted");
        assert_eq!(condition(&s, "Ready")["message"], Value::Null);
    }

    #[test]
    fn a_condition_turning_true_removes_the_reason_and_message_it_had() {
        // The status is a strategic merge patch: a field left out keeps the False condition's
        // reason beside the True status (`Ready True (ContainersNotReady)`, seen in FIDELITY.md's
        // first run, which a real kubelet never writes); null removes it.
        let mut p = pod();
        let s = p.status(t(1));
        assert_eq!(condition(&s, "Ready")["reason"], "ContainersNotReady");
        p.init[0].state = State::Terminated { exit_code: 0, reason: "Completed".into(), started_at: t(1), finished_at: t(2) };
        p.app[0].state = State::Running { started_at: t(3) };
        p.app[0].started = true;
        p.app[0].ready = true;
        let s = p.status(t(4));
        for kind in ["Initialized", "Ready", "ContainersReady"] {
            let c = condition(&s, kind);
            assert_eq!(c["status"], "True", "{kind}");
            assert!(c.get("reason").is_some_and(Value::is_null), "{kind} nulls its reason: {c}");
            assert!(c.get("message").is_some_and(Value::is_null), "{kind} nulls its message: {c}");
        }
    }

    #[test]
    fn summary_names_phase_readiness_and_each_containers_state() {
        let status = json!({
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {"name": "app", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                {"name": "side", "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}},
            ],
        });
        assert_eq!(summary(&status), "phase=Running ready=False app=waiting/CrashLoopBackOff restarts=2 side=running restarts=0");
    }
}
