//! One task per pod: runs its [`PodMachine`], performs the effects (Events,
//! logs), writes the status through `pods/status`, and completes the pod's
//! deletion. API errors are logged and retried; the task ends when the driver
//! stops tracking the pod (it was deleted).

use crate::config::{self, Reference};
use crate::events::{Recorder, Subject};
use crate::lifecycle::{ConfigResults, Effect, PodMachine};
use crate::logs::LogStore;
use crate::podip::IpAllocator;
use crate::podspec;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// What every pod task shares.
pub struct Context {
    pub client: kube::Client,
    pub recorder: Recorder,
    pub logs: LogStore,
    /// Bounds concurrent API writes (status, deletes, config reads; events take it too).
    pub writes: Arc<Semaphore>,
    pub ips: IpAllocator,
    /// First CrashLoopBackOff / image pull back-off unless a behaviour sets its own.
    pub backoff_base: Duration,
}

/// How soon a failed API write is retried.
const WRITE_RETRY: Duration = Duration::from_secs(1);

/// Who the pod is, for API calls, logs and events.
struct Identity {
    namespace: String,
    name: String,
    uid: String,
    node: String,
}

/// Drives one pod until the driver drops `updates` (the pod is gone).
pub async fn drive(ctx: Arc<Context>, node: String, mut updates: watch::Receiver<Arc<Pod>>) {
    let (id, finished, references, mut machine) = {
        let first = updates.borrow_and_update().clone();
        let meta = &first.metadata;
        let id = Identity {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            node,
        };
        let status = first.status.clone().unwrap_or_default();
        // A pod that already finished (seen again after a simulator restart) stays as it is.
        let finished = matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"));
        let pod_ip = status.pod_ip.filter(|ip| !ip.is_empty()).unwrap_or_else(|| ctx.ips.allocate());
        let references: HashMap<String, Vec<Reference>> = first
            .spec
            .iter()
            .flat_map(|s| s.init_containers.iter().flatten().chain(&s.containers))
            .map(|c| (c.name.clone(), config::references(c)))
            .filter(|(_, refs)| !refs.is_empty())
            .collect();
        let machine = PodMachine::new(podspec::from_pod(&first, ctx.backoff_base), pod_ip, Timestamp::now());
        (id, finished, references, machine)
    };
    let mut written: Option<Value> = None;
    let mut retry_at: Option<Timestamp> = None;
    loop {
        let pod = updates.borrow_and_update().clone();
        if pod.metadata.deletion_timestamp.is_some() {
            if Box::pin(complete_deletion(&ctx, &id, &pod, &mut machine, &mut updates)).await {
                // Deleted: wait for the driver to see it go.
                while updates.changed().await.is_ok() {}
            }
            break;
        }
        if !finished {
            let now = Timestamp::now();
            let mut effects = machine.advance(now, &ConfigResults::new());
            let pending = machine.pending_config();
            if !pending.is_empty() {
                let mut results = ConfigResults::new();
                for container in pending {
                    let refs = references.get(&container).map(Vec::as_slice).unwrap_or_default();
                    let _permit = ctx.writes.acquire().await.expect("semaphore open");
                    results.insert(container, Box::pin(config::check(&ctx.client, &id.namespace, refs)).await);
                }
                effects.extend(machine.advance(now, &results));
            }
            // Boxed, like the other API calls here: thousands of pod tasks would each
            // otherwise reserve room for the largest request future.
            Box::pin(perform(&ctx, &id, &pod, effects)).await;
            let status = machine.runtime.status(now);
            if written.as_ref() != Some(&status) && retry_at.is_none_or(|at| at <= now) {
                let sent = Timestamp::now();
                match Box::pin(write_status(&ctx, &id, &status)).await {
                    Ok(()) => {
                        // Benchmarks time observers against this (RUST_LOG=rollwatch_sim::status_write=debug).
                        tracing::debug!(target: "rollwatch_sim::status_write", namespace = %id.namespace, pod = %id.name,
                            sent_ms = sent.as_millisecond(), acked_ms = Timestamp::now().as_millisecond(),
                            status = %crate::status::summary(&status), "status written");
                        (written, retry_at) = (Some(status), None)
                    }
                    Err(e) if is_gone(&e) => {
                        tracing::debug!(pod = %id.name, "status not written, the pod is gone: {e}");
                        (written, retry_at) = (Some(status), None);
                    }
                    Err(e) => {
                        tracing::warn!(namespace = %id.namespace, pod = %id.name, "status write failed, retrying: {e}");
                        retry_at = Some(now + WRITE_RETRY);
                    }
                }
            }
        }
        let wake = if finished { None } else { [machine.next_wake(), retry_at].into_iter().flatten().min() };
        tokio::select! {
            changed = updates.changed() => if changed.is_err() { break },
            _ = sleep_until(wake) => {}
        }
    }
    ctx.recorder.forget(&id.uid);
    ctx.logs.forget_pod(&id.namespace, &id.name, &id.uid);
}

async fn perform(ctx: &Context, id: &Identity, pod: &Pod, effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Event { container, kind, reason, message } => {
                let subject = Subject { pod, node: &id.node, container: Some(&container) };
                ctx.recorder.record(&subject, kind, reason, &message).await;
            }
            Effect::Log { container, line } => ctx.logs.append(&id.namespace, &id.name, &id.uid, &container, line),
            Effect::NewInstance { container } => ctx.logs.restart(&id.namespace, &id.name, &id.uid, &container),
        }
    }
}

/// A strategic merge patch, so the scheduler's PodScheduled condition stays; the
/// uid in it makes the API server refuse to write onto a newer pod of the same name.
async fn write_status(ctx: &Context, id: &Identity, status: &Value) -> kube::Result<()> {
    let patch = json!({"metadata": {"uid": id.uid}, "status": status});
    let _permit = ctx.writes.acquire().await.expect("semaphore open");
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &id.namespace);
    api.patch_status(&id.name, &PatchParams::default(), &Patch::Strategic(patch)).await.map(|_| ())
}

/// Stops the containers as the kubelet does (Killing events, each container's
/// `term` capped by the grace period), then deletes the pod for good. Returns
/// false if the driver stopped tracking the pod meanwhile.
async fn complete_deletion(ctx: &Context, id: &Identity, pod: &Pod, machine: &mut PodMachine, updates: &mut watch::Receiver<Arc<Pod>>) -> bool {
    let (effects, stop) = machine.terminate(podspec::deletion_grace(pod));
    perform(ctx, id, pod, effects).await;
    if !wait_or_gone(updates, stop).await {
        return false;
    }
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions { uid: Some(id.uid.clone()), resource_version: None }),
        ..DeleteParams::default()
    };
    loop {
        let result = {
            let _permit = ctx.writes.acquire().await.expect("semaphore open");
            Api::<Pod>::namespaced(ctx.client.clone(), &id.namespace).delete(&id.name, &params).await
        };
        match result {
            Ok(_) => return true,
            Err(e) if is_gone(&e) => return true,
            Err(e) => tracing::warn!(namespace = %id.namespace, pod = %id.name, "deleting the pod failed, retrying: {e}"),
        }
        if !wait_or_gone(updates, WRITE_RETRY).await {
            return false;
        }
    }
}

/// Sleeps `duration`, keeping up with updates; false if the pod stopped being tracked.
async fn wait_or_gone(updates: &mut watch::Receiver<Arc<Pod>>, duration: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + duration;
    loop {
        tokio::select! {
            changed = updates.changed() => if changed.is_err() { return false },
            _ = tokio::time::sleep_until(deadline) => return true,
        }
    }
}

async fn sleep_until(wake: Option<Timestamp>) {
    match wake {
        Some(at) => {
            let wait = at.duration_since(Timestamp::now());
            tokio::time::sleep(wait.try_into().unwrap_or(Duration::ZERO)).await
        }
        None => std::future::pending().await,
    }
}

/// 404: the pod is gone; 409: the uid precondition failed, so this pod is gone too.
fn is_gone(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404 || status.code == 409)
}
