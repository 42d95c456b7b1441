//! Objects by label selector, as `kubectl get -l` finds them.

use kube::api::{Api, DynamicObject, ListParams};
use rollwatch_verdict::{ObjectRef, registry};

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
        let api: Api<DynamicObject> = match namespace {
            Some(namespace) if resource.namespaced => Api::namespaced_with(tracker.client().clone(), namespace, &resource.api),
            _ => Api::all_with(tracker.client().clone(), &resource.api),
        };
        let params = ListParams::default().labels(selector);
        // Only the names are needed: metadata alone is a small part of a listed workload.
        let listed = crate::retry::retrying(|| api.list_metadata(&params))
            .await
            .map_err(|e| Error::from_kube_input(&format!("listing {} with -l {selector}", resource.api.plural), &e))?;
        found.extend(listed.items.into_iter().filter_map(|object| {
            let name = object.metadata.name?;
            Some(ObjectRef::in_group(&resource.api.group, resource.api.kind.clone(), object.metadata.namespace, name))
        }));
    }
    found.sort();
    Ok(found)
}
