//! The nodes' free room, read from the cluster: each node's allocatable minus the requests of
//! the pods bound to it that have not terminated. For `rollwatch plan --cluster` and `apply`'s
//! check, before anything is applied, that a rollout's first wave can fit at all.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::ListParams;
use rollwatch_verdict::api::Pod;
use rollwatch_verdict::capacity::{self, Resources};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// Objects per LIST page: a big cluster has many Pods.
const PAGE_SIZE: u32 = 500;

/// Free room per node name.
pub async fn free_room(client: &kube::Client) -> Result<BTreeMap<String, Resources>, Error> {
    let mut nodes = BTreeMap::new();
    for node in list::<Value>(client, "/api/v1/nodes", ListParams::default()).await? {
        let name = node.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let room = capacity::allocatable(&node).map_err(|(field, problem)| Error::cluster(format!("node/{name}: field {field}: {problem}")))?;
        nodes.insert(name, room);
    }
    let running = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    let mut bound = Vec::new();
    for pod in list::<Pod>(client, "/api/v1/pods", running).await? {
        let Some(spec) = pod.spec.as_ref() else { continue };
        let Some(node) = spec.node_name.as_deref().map(str::to_owned) else { continue };
        // The API server validated these quantities; a pod it would not have taken is no one's room.
        if let Ok(requests) = capacity::pod_requests(spec) {
            bound.push((node, requests));
        }
    }
    Ok(capacity::free_room(&nodes, bound))
}

/// One page of a LIST, its items read as `T` (Pods in the form the capacity rules read).
#[derive(serde::Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    metadata: ListMeta,
}

/// Every object at `path` (`/api/v1/pods`) across namespaces, page by page.
async fn list<T: DeserializeOwned>(client: &kube::Client, path: &str, mut params: ListParams) -> Result<Vec<T>, Error> {
    let what = format!("listing {}", path.rsplit('/').next().unwrap_or(path));
    let request = kube::core::Request::new(path);
    let mut items = Vec::new();
    params = params.limit(PAGE_SIZE);
    loop {
        let page = request.list(&params).map_err(|e| Error::cluster(format!("{what}: {e}")))?;
        let page: Page<T> = client.request(page).await.map_err(|e| Error::from_kube(&what, &e))?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
