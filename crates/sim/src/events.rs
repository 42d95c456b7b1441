//! Events as the kubelet writes them: source `kubelet` on the node, the pod
//! (and container field path) as involved object, and repeats aggregated into
//! one Event whose count and lastTimestamp grow, which keeps API load bounded.

use crate::status::time;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Type {
    Normal,
    Warning,
}

/// (pod uid, field path, reason, message): repeats of one key aggregate into one Event.
type EventKey = (String, String, String, String);

#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    /// Event key -> (event name, count)
    seen: Arc<Mutex<HashMap<EventKey, (String, u32)>>>,
    writes: Arc<tokio::sync::Semaphore>,
}

/// What an event is about: a pod, and optionally one of its containers.
pub struct Subject<'a> {
    pub pod: &'a Pod,
    pub node: &'a str,
    pub container: Option<&'a str>,
}

impl Recorder {
    pub fn new(client: kube::Client, writes: Arc<tokio::sync::Semaphore>) -> Self {
        Recorder { client, seen: Default::default(), writes }
    }

    /// Records an event; failures are logged, never fatal (as in the kubelet).
    pub async fn record(&self, subject: &Subject<'_>, kind: Type, reason: &str, message: &str) {
        if let Err(e) = self.write(subject, kind, reason, message).await {
            tracing::debug!(reason, message, "event not recorded: {e}");
        }
    }

    async fn write(&self, subject: &Subject<'_>, kind: Type, reason: &str, message: &str) -> kube::Result<()> {
        let meta = &subject.pod.metadata;
        let namespace = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        let uid = meta.uid.clone().unwrap_or_default();
        let field_path = subject.container.map(|c| field_path(subject.pod, c)).unwrap_or_default();
        let now = time(Timestamp::now());
        let key = (uid.clone(), field_path.clone(), reason.to_owned(), message.to_owned());
        let repeat = {
            let mut seen = self.seen.lock().expect("event cache lock");
            match seen.get_mut(&key) {
                Some((event_name, count)) => {
                    *count += 1;
                    Some((event_name.clone(), *count))
                }
                None => {
                    let event_name = format!("{name}.{:x}", Timestamp::now().as_nanosecond());
                    seen.insert(key, (event_name.clone(), 1));
                    None
                }
            }
        };
        let _permit = self.writes.acquire().await.expect("semaphore open");
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        match repeat {
            Some((event_name, count)) => {
                let patch = json!({"count": count, "lastTimestamp": now});
                api.patch(&event_name, &PatchParams::default(), &Patch::Merge(patch)).await?;
            }
            None => {
                let (event_name, _) =
                    self.seen.lock().expect("event cache lock")[&(uid.clone(), field_path.clone(), reason.to_owned(), message.to_owned())].clone();
                let event: Event = serde_json::from_value(json!({
                    "metadata": {"name": event_name, "namespace": namespace},
                    "involvedObject": {"kind": "Pod", "apiVersion": "v1", "namespace": namespace, "name": name,
                                        "uid": uid, "fieldPath": if field_path.is_empty() { None } else { Some(field_path) }},
                    "reason": reason,
                    "message": message,
                    "type": match kind { Type::Normal => "Normal", Type::Warning => "Warning" },
                    "source": {"component": "kubelet", "host": subject.node},
                    "firstTimestamp": now,
                    "lastTimestamp": now,
                    "count": 1,
                    "reportingComponent": "kubelet",
                    "reportingInstance": subject.node,
                }))
                .expect("a well-formed Event");
                api.create(&PostParams::default(), &event).await?;
            }
        }
        Ok(())
    }

    /// Forgets a deleted pod's events, so the cache does not grow forever.
    pub fn forget(&self, pod_uid: &str) {
        self.seen.lock().expect("event cache lock").retain(|(uid, ..), _| uid != pod_uid);
    }
}

/// The kubelet's field path for a container: init containers live in `spec.initContainers`.
fn field_path(pod: &Pod, container: &str) -> String {
    let init = pod.spec.iter().flat_map(|s| s.init_containers.iter().flatten()).any(|c| c.name == container);
    if init { format!("spec.initContainers{{{container}}}") } else { format!("spec.containers{{{container}}}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_containers_have_their_own_field_path() {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {
            "initContainers": [{"name": "setup"}], "containers": [{"name": "app"}]}}))
        .unwrap();
        assert_eq!(field_path(&pod, "setup"), "spec.initContainers{setup}");
        assert_eq!(field_path(&pod, "app"), "spec.containers{app}");
    }
}
