//! Objects by label selector, as `kubectl get -l` finds them.

use kube::api::{DynamicObject, ListParams};
use kube::core::{Request, Resource};
use rollwatch_verdict::{ObjectRef, registry};
use serde::Deserialize;

use crate::{Error, Tracker};

/// The kinds `rollwatch wait -l` looks at when no kind is named, as (group, kind): the workloads
/// that roll out (the registry's `selected_by_default`).
pub fn default_kinds() -> Vec<(String, String)> {
    registry::KINDS.iter().filter(|row| row.selected_by_default).map(|row| (row.group.to_string(), row.kind.to_string())).collect()
}

/// The objects of `kinds` (group, kind) matching `selector`, in `namespace` (`None`: in all namespaces).
pub async fn select(tracker: &Tracker, kinds: &[(String, String)], selector: &str, namespace: Option<&str>) -> Result<Vec<ObjectRef>, Error> {
    let mut found = Vec::new();
    for (group, kind) in kinds {
        let resource = tracker.resolver().for_kind(group, kind).await?;
        let scope = namespace.filter(|_| resource.namespaced);
        let url = DynamicObject::url_path(&resource.api, scope);
        let params = ListParams::default().labels(selector);
        // Only the names are needed: metadata alone is a small part of a listed workload.
        let listed: Names = crate::retry::retrying(|| {
            let request = Request::new(&url).list_metadata(&params).map_err(kube::Error::BuildRequest);
            async move { tracker.client().request(request?).await }
        })
        .await
        .map_err(|e| Error::from_kube_input(&format!("listing {} with -l {selector}", resource.api.plural), &e))?;
        found.extend(listed.items.into_iter().flatten().filter_map(|item| {
            let Identity { name, namespace } = item.metadata;
            Some(ObjectRef::in_group(&resource.api.group, resource.api.kind.clone(), namespace, name?))
        }));
    }
    found.sort();
    Ok(found)
}

/// A list of objects' metadata read for their names alone: the rest (managedFields first, read
/// into value trees by kube's own types) was most of what selecting 1,000 Deployments cost.
#[derive(Deserialize)]
struct Names {
    /// `null` when nothing matches (as the API server writes an empty metadata-only list).
    #[serde(default)]
    items: Option<Vec<Named>>,
}

#[derive(Deserialize)]
struct Named {
    metadata: Identity,
}

#[derive(Deserialize)]
struct Identity {
    name: Option<String>,
    namespace: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_objects_name_and_namespace_are_read_and_an_empty_list_may_be_null() {
        let listed: Names = serde_json::from_str(
            r#"{"kind": "PartialObjectMetadataList", "items": [{"metadata": {"name": "web", "namespace": "shop", "managedFields": [{"manager": "kubectl"}]}}]}"#,
        )
        .unwrap();
        let Identity { name, namespace } = &listed.items.unwrap()[0].metadata;
        assert_eq!((name.as_deref(), namespace.as_deref()), (Some("web"), Some("shop")));
        let empty: Names = serde_json::from_str(r#"{"kind": "PartialObjectMetadataList", "metadata": {"resourceVersion": "7"}, "items": null}"#).unwrap();
        assert!(empty.items.is_none());
    }
}
