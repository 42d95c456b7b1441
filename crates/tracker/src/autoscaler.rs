//! Whether a cluster autoscaler runs, for the unschedulable rule: its status ConfigMap
//! (`kube-system/cluster-autoscaler-status`, which it keeps current), read once when tracking
//! starts. Without one no node will be added, so an unschedulable pod gets a short grace.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use rollwatch_verdict::capacity::{AUTOSCALER_STATUS, Autoscaler};

use crate::error::describe;

/// A bound on the one read: without an answer the full grace applies, as without access.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Present or absent; when the ConfigMap cannot be read (access denied, no answer), why, and the
/// rule keeps the full `--unschedulable-grace`.
pub(crate) async fn probe(client: &kube::Client) -> Result<Autoscaler, String> {
    let (namespace, name) = AUTOSCALER_STATUS;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let unknown = |why: String| {
        format!(
            "cannot tell whether a cluster autoscaler runs (reading configmap {namespace}/{name}: {why}): unschedulable pods get the full --unschedulable-grace"
        )
    };
    match tokio::time::timeout(PROBE_TIMEOUT, api.get_opt(name)).await {
        Ok(Ok(Some(_))) => Ok(Autoscaler::Present),
        Ok(Ok(None)) => Ok(Autoscaler::Absent),
        Ok(Err(error)) => Err(unknown(describe(&error))),
        Err(_) => Err(unknown(format!("no answer within {}s", PROBE_TIMEOUT.as_secs()))),
    }
}
