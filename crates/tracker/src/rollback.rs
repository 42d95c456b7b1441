//! Undoing the Deployment rollouts a run started: back to the ReplicaSet that was current before
//! (its pod template), as `kubectl rollout undo` does.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, ListParams, Patch, PatchParams};
use rollwatch_verdict::ObjectRef;
use serde_json::json;

use crate::apply::FIELD_MANAGER;
use crate::{Error, Tracker};

const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// A Deployment's revision before a run changed it.
#[derive(Debug, Clone)]
pub struct Mark {
    pub deployment: ObjectRef,
    /// `None`: the Deployment did not exist (or had no revision yet).
    revision: Option<i64>,
}

/// What [`undo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    /// The Deployment's template is back to revision `revision`'s; `images` are its images.
    RolledBack { deployment: ObjectRef, revision: i64, images: Vec<String> },
    /// Nothing to undo, and why.
    Nothing { deployment: ObjectRef, why: String },
}

/// Notes the current revision of each Deployment among `objects`, before they are changed.
pub async fn mark(tracker: &Tracker, objects: &[ObjectRef]) -> Result<Vec<Mark>, Error> {
    let mut marks = Vec::new();
    for object in objects.iter().filter(|o| o.kind == "Deployment") {
        let api = deployments(tracker, object);
        let found = api.get_opt(&object.name).await.map_err(|e| Error::from_kube(&format!("reading {object}"), &e))?;
        let revision = found.as_ref().and_then(revision_of_deployment);
        marks.push(Mark { deployment: object.clone(), revision });
    }
    Ok(marks)
}

/// Returns the Deployment to the ReplicaSet of its marked revision, if the run moved it on.
pub async fn undo(tracker: &Tracker, mark: &Mark) -> Result<Undone, Error> {
    let deployment = mark.deployment.clone();
    let nothing = |why: &str| Ok(Undone::Nothing { deployment: deployment.clone(), why: why.to_string() });
    let Some(before) = mark.revision else {
        return nothing("it had no earlier revision to return to");
    };
    let api = deployments(tracker, &deployment);
    let current = api.get(&deployment.name).await.map_err(|e| Error::from_kube(&format!("reading {deployment}"), &e))?;
    if revision_of_deployment(&current) == Some(before) {
        return nothing("this run did not start a new rollout of it");
    }
    let namespace = deployment.namespace.clone().unwrap_or_default();
    let replica_sets: Api<ReplicaSet> = Api::namespaced(tracker.client().clone(), &namespace);
    let selector = current
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|labels| labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    let listed = replica_sets
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| Error::from_kube(&format!("listing the ReplicaSets of {deployment}"), &e))?;
    let uid = current.metadata.uid.clone();
    let previous = listed.items.into_iter().find(|rs| {
        let owned = rs.metadata.owner_references.iter().flatten().any(|o| Some(&o.uid) == uid.as_ref());
        owned && annotation_revision(&rs.metadata) == Some(before)
    });
    let Some(previous) = previous else {
        return nothing(&format!("the ReplicaSet of revision {before} is gone"));
    };
    let Some(mut template) = previous.spec.and_then(|s| s.template) else {
        return nothing(&format!("the ReplicaSet of revision {before} has no pod template"));
    };
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    let images = template.spec.as_ref().map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect()).unwrap_or_default();
    let patch = json!([{ "op": "replace", "path": "/spec/template", "value": template }]);
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    let patch: json_patch::Patch = serde_json::from_value(patch).map_err(|e| Error::cluster(format!("building the rollback patch: {e}")))?;
    api.patch(&deployment.name, &params, &Patch::<()>::Json(patch))
        .await
        .map_err(|e| Error::from_kube(&format!("rolling back {deployment}"), &e))?;
    Ok(Undone::RolledBack { deployment, revision: before, images })
}

fn deployments(tracker: &Tracker, object: &ObjectRef) -> Api<Deployment> {
    Api::namespaced(tracker.client().clone(), object.namespace.as_deref().unwrap_or(tracker.default_namespace()))
}

fn revision_of_deployment(deployment: &Deployment) -> Option<i64> {
    annotation_revision(&deployment.metadata)
}

fn annotation_revision(metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<i64> {
    metadata.annotations.as_ref()?.get(REVISION_ANNOTATION)?.parse().ok()
}
