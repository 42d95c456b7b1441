//! The nodes' free room, read from the cluster: each node's allocatable minus the requests of
//! the pods bound to it that have not terminated. For `rollwatch plan --cluster` and `apply`'s
//! check, before anything is applied, that a rollout's first wave can fit at all.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::{Api, ListParams};
use rollwatch_verdict::api::Pod;
use rollwatch_verdict::capacity::{self, Resources};

use crate::Error;

/// Pods per LIST page: a big cluster has many.
const PAGE_SIZE: u32 = 500;

/// Free room per node name.
pub async fn free_room(client: &kube::Client) -> Result<BTreeMap<String, Resources>, Error> {
    let mut nodes = BTreeMap::new();
    for node in list::<Node>(client, ListParams::default()).await? {
        let name = node.metadata.name.clone().unwrap_or_default();
        let object = serde_json::to_value(&node).map_err(|e| Error::cluster(format!("reading node {name}: {e}")))?;
        let room = capacity::allocatable(&object).map_err(|(field, problem)| Error::cluster(format!("node/{name}: field {field}: {problem}")))?;
        nodes.insert(name, room);
    }
    let running = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    let mut bound = Vec::new();
    for pod in list_pods(client, running).await? {
        let Some(spec) = pod.spec.as_ref() else { continue };
        let Some(node) = spec.node_name.clone() else { continue };
        // The API server validated these quantities; a pod it would not have taken is no one's room.
        if let Ok(requests) = capacity::pod_requests(spec) {
            bound.push((node, requests));
        }
    }
    Ok(capacity::free_room(&nodes, bound))
}

async fn list<K>(client: &kube::Client, mut params: ListParams) -> Result<Vec<K>, Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::all(client.clone());
    let what = K::plural(&Default::default()).to_string();
    let mut items = Vec::new();
    params = params.limit(PAGE_SIZE);
    loop {
        let page = api.list(&params).await.map_err(|e| Error::from_kube(&format!("listing {what}"), &e))?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// A page of Pods, read into the form the capacity rules read (a big cluster has many).
#[derive(serde::Deserialize)]
struct PodPage {
    #[serde(default)]
    items: Vec<Pod>,
    #[serde(default)]
    metadata: ListMeta,
}

async fn list_pods(client: &kube::Client, mut params: ListParams) -> Result<Vec<Pod>, Error> {
    let pods = kube::core::Request::new("/api/v1/pods");
    let mut items = Vec::new();
    params = params.limit(PAGE_SIZE);
    loop {
        let request = pods.list(&params).map_err(|e| Error::cluster(format!("listing pods: {e}")))?;
        let page: PodPage = client.request(request).await.map_err(|e| Error::from_kube("listing pods", &e))?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
