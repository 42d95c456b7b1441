//! Reads what the lifecycle needs from a Pod object: restart policy, grace
//! period, and per container its image, behaviour, probes and config references.

use crate::behavior::{ANNOTATION, Behavior, Kind};
use crate::config;
use crate::lifecycle::{ContainerSpec, PodSpec, RestartPolicy};
use crate::probe::Probe;
use k8s_openapi::api::core::v1::{Container, Pod};
use std::collections::BTreeMap;
use std::time::Duration;

/// The API's default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE: Duration = Duration::from_secs(30);

pub fn from_pod(pod: &Pod, default_backoff: Duration) -> PodSpec {
    let meta = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let annotations = meta.annotations.clone().unwrap_or_default();
    let container = |c: &Container| container_spec(c, &annotations, default_backoff);
    PodSpec {
        pod_ref: format!(
            "{}_{}({})",
            meta.name.as_deref().unwrap_or_default(),
            meta.namespace.as_deref().unwrap_or_default(),
            meta.uid.as_deref().unwrap_or_default()
        ),
        restart_policy: match spec.restart_policy.as_deref() {
            Some("Never") => RestartPolicy::Never,
            Some("OnFailure") => RestartPolicy::OnFailure,
            _ => RestartPolicy::Always,
        },
        init: spec.init_containers.iter().flatten().map(container).collect(),
        app: spec.containers.iter().map(container).collect(),
        grace: grace(spec.termination_grace_period_seconds),
    }
}

/// The grace period a deletion allows: the one the delete request set, else the spec's.
pub fn deletion_grace(pod: &Pod) -> Duration {
    pod.metadata
        .deletion_grace_period_seconds
        .map_or_else(|| grace(pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds)), |s| Duration::from_secs(s.max(0) as u64))
}

fn grace(seconds: Option<i64>) -> Duration {
    seconds.map_or(DEFAULT_GRACE, |s| Duration::from_secs(s.max(0) as u64))
}

fn container_spec(c: &Container, annotations: &BTreeMap<String, String>, default_backoff: Duration) -> ContainerSpec {
    let image = c.image.clone().unwrap_or_default();
    let behavior = Behavior::for_container(annotations, &c.name).map_err(|e| {
        let specific = format!("{ANNOTATION}.{}", c.name);
        let key = if annotations.contains_key(&specific) { specific } else { ANNOTATION.to_owned() };
        format!("invalid annotation {key}: {e}")
    });
    let kind = behavior.as_ref().map_or(Kind::Ready, |b| b.kind.clone());
    let declared = |p: &Option<k8s_openapi::api::core::v1::Probe>| p.as_ref().map(Probe::from_spec);
    // Behaviours that act through a probe get Kubernetes' default one when the spec has none.
    let readiness = declared(&c.readiness_probe).or_else(|| (kind == Kind::NeverReady).then(Probe::implicit));
    let liveness = declared(&c.liveness_probe).or_else(|| matches!(kind, Kind::LivenessFail { .. }).then(Probe::implicit));
    ContainerSpec {
        pull_always: match c.image_pull_policy.as_deref() {
            Some(policy) => policy == "Always",
            // The API server defaults the policy; this mirrors its rule for objects that lack it.
            None => image_tag(&image).is_none_or(|tag| tag == "latest"),
        },
        needs_config: !config::references(c).is_empty(),
        readiness,
        liveness,
        startup: declared(&c.startup_probe),
        backoff: behavior.as_ref().ok().and_then(|b| b.backoff).unwrap_or(default_backoff),
        name: c.name.clone(),
        image,
        behavior,
    }
}

fn image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, tag)| tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn reads_policy_containers_probes_and_behaviour() {
        let p = pod(json!({
            "metadata": {"name": "web-1", "namespace": "ns", "uid": "u1", "annotations": {
                "sim.rollwatch.dev/behavior": "never-ready backoff=2s",
                "sim.rollwatch.dev/behavior.setup": "exit code=0 after=1s",
            }},
            "spec": {"restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 5,
                "initContainers": [{"name": "setup", "image": "busybox"}],
                "containers": [{"name": "app", "image": "nginx:1.19", "imagePullPolicy": "IfNotPresent",
                    "envFrom": [{"configMapRef": {"name": "settings"}}],
                    "startupProbe": {"exec": {"command": ["true"]}}}]},
        }));
        let spec = from_pod(&p, Duration::from_secs(10));
        assert_eq!(spec.pod_ref, "web-1_ns(u1)");
        assert_eq!(spec.restart_policy, RestartPolicy::OnFailure);
        assert_eq!(spec.grace, Duration::from_secs(5));
        let (setup, app) = (&spec.init[0], &spec.app[0]);
        assert!(setup.pull_always, "an untagged image is pulled every time");
        assert!(matches!(setup.behavior.as_ref().unwrap().kind, Kind::Exit { code: 0, .. }));
        assert!(!app.pull_always && app.needs_config && app.startup.is_some());
        assert_eq!(app.readiness, Some(Probe::implicit()), "never-ready without a probe gets the default one");
        assert_eq!(app.backoff, Duration::from_secs(2));
        assert_eq!(setup.backoff, Duration::from_secs(10));
    }

    #[test]
    fn a_bad_annotation_is_reported_with_its_key() {
        let p = pod(json!({
            "metadata": {"name": "p", "annotations": {"sim.rollwatch.dev/behavior.app": "explode"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:latest"}]},
        }));
        let app = &from_pod(&p, Duration::from_secs(10)).app[0];
        assert!(app.pull_always);
        let error = app.behavior.clone().unwrap_err();
        assert!(error.starts_with("invalid annotation sim.rollwatch.dev/behavior.app: unknown behaviour kind 'explode'"), "{error}");
    }

    #[test]
    fn deletion_grace_prefers_the_delete_request() {
        let mut p = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [], "terminationGracePeriodSeconds": 20}}));
        assert_eq!(deletion_grace(&p), Duration::from_secs(20));
        p.metadata.deletion_grace_period_seconds = Some(3);
        assert_eq!(deletion_grace(&p), Duration::from_secs(3));
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), None);
        assert_eq!(image_tag("registry:5000/team/app:v2"), Some("v2"));
        assert_eq!(image_tag("registry:5000/team/app"), None);
        assert_eq!(image_tag("app@sha256:abc"), None);
    }
}
