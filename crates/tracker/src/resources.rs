//! Which API endpoint serves a kind: a table for the kinds rollwatch watches most, and the
//! server's discovery for everything else (custom resources, CronJob's version, ...).

use std::collections::HashMap;
use std::sync::Arc;

use kube::core::GroupVersion;
use kube::discovery::{ApiResource, Scope};
use tokio::sync::Mutex;

use crate::Error;
use crate::retry::retrying;

/// A kind as the API serves it: where, and whether its objects live in namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    pub api: ApiResource,
    pub namespaced: bool,
}

impl Resource {
    fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        let api = ApiResource { group: group.into(), version: version.into(), api_version, kind: kind.into(), plural: plural.into() };
        Self { api, namespaced }
    }
}

/// Kinds whose endpoint is the same on every API server rollwatch supports (v1.19 and later),
/// so watching them needs no discovery round trip.
fn well_known(kind: &str) -> Option<Resource> {
    let (group, version, plural, namespaced) = match kind {
        "Deployment" => ("apps", "v1", "deployments", true),
        "ReplicaSet" => ("apps", "v1", "replicasets", true),
        "StatefulSet" => ("apps", "v1", "statefulsets", true),
        "DaemonSet" => ("apps", "v1", "daemonsets", true),
        "ControllerRevision" => ("apps", "v1", "controllerrevisions", true),
        "Pod" => ("", "v1", "pods", true),
        "Event" => ("", "v1", "events", true),
        "Service" => ("", "v1", "services", true),
        "PersistentVolumeClaim" => ("", "v1", "persistentvolumeclaims", true),
        "ConfigMap" => ("", "v1", "configmaps", true),
        "Secret" => ("", "v1", "secrets", true),
        "Namespace" => ("", "v1", "namespaces", false),
        "Node" => ("", "v1", "nodes", false),
        "Job" => ("batch", "v1", "jobs", true),
        "Ingress" => ("networking.k8s.io", "v1", "ingresses", true),
        _ => return None,
    };
    Some(Resource::new(group, version, kind, plural, namespaced))
}

/// Resolves kinds to endpoints, asking the server once per API group and caching the answers.
#[derive(Clone)]
pub struct Resolver {
    client: kube::Client,
    groups: Arc<Mutex<HashMap<String, Vec<Resource>>>>,
}

impl Resolver {
    pub fn new(client: kube::Client) -> Self {
        Self { client, groups: Arc::default() }
    }

    /// The endpoint for a manifest's `apiVersion` and `kind`.
    pub async fn for_manifest(&self, api_version: &str, kind: &str) -> Result<Resource, Error> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if let Some(resource) = well_known(kind).filter(|r| r.api.group == group && r.api.version == version) {
            return Ok(resource);
        }
        let group_version = GroupVersion::gv(group, version);
        let key = format!("{group}/{version}");
        let resources = self
            .group_resources(&key, || async { kube::discovery::pinned_group(&self.client, &group_version).await.map(|g| g.versioned_resources(version)) })
            .await?;
        resources.into_iter().find(|r| r.api.kind == kind).ok_or_else(|| Error::input(format!("the server has no kind {kind} in {api_version}")))
    }

    /// The endpoint for a kind as `rollwatch wait KIND/NAME` names it: a canonical kind
    /// (`Deployment`), or a kind or plural with its group (`Widget.example.com`, `widgets.example.com`).
    pub async fn for_kind(&self, kind: &str) -> Result<Resource, Error> {
        if let Some(resource) = well_known(kind) {
            return Ok(resource);
        }
        let (name, group) = kind.split_once('.').unwrap_or((kind, ""));
        let candidates: Vec<String> = if group.is_empty() {
            let groups = self.group_names().await?;
            groups.into_iter().filter(|g| !g.contains('.') || g.ends_with(".k8s.io")).collect()
        } else {
            vec![group.to_string()]
        };
        for group in candidates {
            let key = format!("{group}/*");
            let recommended =
                self.group_resources(&key, || async { kube::discovery::group(&self.client, &group).await.map(|g| g.recommended_resources()) }).await;
            let resources = match recommended {
                Ok(resources) => resources,
                Err(e) if e.kind == crate::ErrorKind::Access => return Err(e),
                Err(_) => continue,
            };
            let lower = name.to_ascii_lowercase();
            if let Some(found) = resources.into_iter().find(|r| r.api.kind.to_ascii_lowercase() == lower || r.api.plural == lower) {
                return Ok(found);
            }
        }
        Err(Error::input(format!("the server has no kind {kind:?}")))
    }

    /// API group names the server serves ("" for the core group).
    async fn group_names(&self) -> Result<Vec<String>, Error> {
        let mut names = vec![String::new()];
        let groups = retrying(|| self.client.list_api_groups()).await.map_err(|e| Error::from_kube("listing API groups", &e))?;
        names.extend(groups.groups.into_iter().map(|g| g.name));
        Ok(names)
    }

    /// The resources of one group (version), from the cache or from `fetch`.
    async fn group_resources<F, Fut>(&self, key: &str, fetch: F) -> Result<Vec<Resource>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = kube::Result<Vec<(ApiResource, kube::discovery::ApiCapabilities)>>>,
    {
        let mut groups = self.groups.lock().await;
        if let Some(found) = groups.get(key) {
            return Ok(found.clone());
        }
        let fetched = retrying(fetch).await.map_err(|e| match &e {
            kube::Error::Api(status) if status.code == 404 => Error::input(format!("the server does not serve API group {key}")),
            kube::Error::Discovery(_) => Error::input(format!("the server does not serve API group {key}")),
            _ => Error::from_kube(&format!("discovering API group {key}"), &e),
        })?;
        let resources: Vec<Resource> =
            fetched.into_iter().map(|(api, capabilities)| Resource { api, namespaced: capabilities.scope == Scope::Namespaced }).collect();
        groups.insert(key.to_string(), resources.clone());
        Ok(resources)
    }
}
