//! Objects by label selector, as `kubectl get -l` finds them.

use kube::api::{Api, DynamicObject, ListParams};
use rollwatch_verdict::ObjectRef;

use crate::{Error, Tracker};

/// The kinds `rollwatch wait -l` looks at when no kind is named: the workloads that roll out.
pub const WORKLOAD_KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job"];

/// The objects of `kinds` matching `selector`, in `namespace` (`None`: in all namespaces).
pub async fn select(tracker: &Tracker, kinds: &[String], selector: &str, namespace: Option<&str>) -> Result<Vec<ObjectRef>, Error> {
    let mut found = Vec::new();
    for kind in kinds {
        let resource = tracker.resolver().for_kind(kind).await?;
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
            Some(ObjectRef::new(resource.api.kind.clone(), object.metadata.namespace, name))
        }));
    }
    found.sort();
    Ok(found)
}
