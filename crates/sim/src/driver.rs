//! The pod watch: one watch over all namespaces for bound pods, filtered to the
//! simulated nodes, fanning out to one [`worker`] task per pod (keyed by uid).
//! The watcher relists after errors and 410 Gone; pods that vanished meanwhile
//! are dropped when the relist completes.

use crate::worker::{self, Context};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::watch;

/// Pods being driven: uid -> the channel that feeds the pod's task its latest object.
#[derive(Default)]
struct Tracked(HashMap<String, watch::Sender<Arc<Pod>>>);

impl Tracked {
    fn update(&mut self, ctx: &Arc<Context>, nodes: &HashSet<String>, mut pod: Pod) {
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| nodes.contains(n)) else { return };
        let Some(uid) = pod.metadata.uid.clone() else { return };
        // Not needed by the simulation; a large part of each object kept in memory.
        pod.metadata.managed_fields = None;
        let pod = Arc::new(pod);
        if let Some(sender) = self.0.get(&uid).filter(|s| !s.is_closed()) {
            // A running task reads only metadata and spec: keep no copy of the status it wrote.
            let pod = Pod { status: None, ..Arc::unwrap_or_clone(pod) };
            sender.send_replace(Arc::new(pod));
            return;
        }
        let (sender, receiver) = watch::channel(pod);
        tokio::spawn(worker::drive(ctx.clone(), node, receiver));
        self.0.insert(uid, sender);
    }

    /// Dropping the sender ends the pod's task.
    fn remove(&mut self, pod: &Pod) {
        if let Some(uid) = &pod.metadata.uid {
            self.0.remove(uid);
        }
    }
}

/// Watches and drives pods on `nodes` forever; errors are logged and the watch resumes.
pub async fn run(ctx: Arc<Context>, nodes: HashSet<String>) {
    let mut tracked = Tracked::default();
    loop {
        let api: Api<Pod> = Api::all(ctx.client.clone());
        let config = watcher::Config::default().fields("spec.nodeName!=").any_semantic();
        let mut events = std::pin::pin!(watcher(api, config).default_backoff());
        // A (re)list in progress: its pods are applied together once complete, so
        // every pod IP already in use is known before new ones are handed out.
        let mut listing: Vec<Pod> = Vec::new();
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Init) => listing.clear(),
                Ok(watcher::Event::InitApply(pod)) => listing.push(pod),
                Ok(watcher::Event::InitDone) => {
                    let listed: HashSet<String> = listing.iter().filter_map(|p| p.metadata.uid.clone()).collect();
                    tracked.0.retain(|uid, _| listed.contains(uid));
                    for ip in listing.iter().filter_map(|p| p.status.as_ref()?.pod_ip.as_deref()) {
                        ctx.ips.observe(ip);
                    }
                    tracing::info!(pods = listing.len(), "pod watch (re)listed");
                    for pod in listing.drain(..) {
                        tracked.update(&ctx, &nodes, pod);
                    }
                }
                Ok(watcher::Event::Apply(pod)) => tracked.update(&ctx, &nodes, pod),
                Ok(watcher::Event::Delete(pod)) => tracked.remove(&pod),
                Err(e) => tracing::warn!("pod watch: {e}; resuming after back-off"),
            }
        }
        // A watcher with back-off does not end; should it, start a new one.
        tracing::warn!("pod watch ended; starting it again");
    }
}
