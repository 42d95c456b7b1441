//! Undoing the Deployment rollouts a run started: back to the ReplicaSet that was current before
//! (its pod template), as `kubectl rollout undo` does.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::history::REVISION_ANNOTATION;

use crate::{Error, Tracker, rollout};

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
    // The undo itself is `rollwatch undo`'s; a revision that is gone leaves nothing to undo.
    let cause = format!("rollwatch rolled back {deployment} to revision {before} after a failed rollout");
    match rollout::undo(tracker, &deployment, Some(before), &cause).await {
        Ok(rollout::Undone::Restored { revision, images }) => Ok(Undone::RolledBack { deployment, revision, images }),
        Ok(rollout::Undone::AlreadyCurrent { .. }) => nothing(&format!("its template already is revision {before}'s")),
        Err(error) if error.kind == crate::ErrorKind::Input => nothing(&error.message),
        Err(error) => Err(error),
    }
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
