//! Undoing the Deployment rollouts a run started: back to the ReplicaSet that was current before
//! (its pod template), as `kubectl rollout undo` does — but only the revision this run wrote: a
//! Deployment that another writer changed since keeps their change.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::history::REVISION_ANNOTATION;
use rollwatch_verdict::registry;
use serde_json::Value;

use crate::{Error, Tracker, rollout};

/// A Deployment's revision before a run changed it, and the template the run wrote.
#[derive(Debug, Clone)]
pub struct Mark {
    pub deployment: ObjectRef,
    /// `None`: the Deployment did not exist (or had no revision yet).
    revision: Option<i64>,
    /// The pod template as the server stored it after this run's write; `None`: not written.
    written: Option<Value>,
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
    for object in objects.iter().filter(|o| o.is(&registry::DEPLOYMENT)) {
        let api = deployments(tracker, object);
        let found = crate::retry::retrying(|| api.get_opt(&object.name)).await.map_err(|e| Error::from_kube(&format!("reading {object}"), &e))?;
        let revision = found.as_ref().and_then(revision_of_deployment);
        marks.push(Mark { deployment: object.clone(), revision, written: None });
    }
    Ok(marks)
}

/// Notes `stored` (the server's answer to this run's write of `object`) on `object`'s mark, if
/// it has one: only a template this run wrote is ever undone.
pub fn record_write(marks: &mut [Mark], object: &ObjectRef, stored: &Value) {
    if let Some(mark) = marks.iter_mut().find(|mark| mark.deployment == *object) {
        mark.written = Some(stored["spec"]["template"].clone());
    }
}

/// Returns the Deployment to the ReplicaSet of its marked revision, if the run moved it on and
/// no other writer has changed its template since.
pub async fn undo(tracker: &Tracker, mark: &Mark) -> Result<Undone, Error> {
    let deployment = mark.deployment.clone();
    let nothing = |why: &str| Ok(Undone::Nothing { deployment: deployment.clone(), why: why.to_string() });
    let Some(written) = &mark.written else {
        return nothing("this run did not write it");
    };
    let Some(before) = mark.revision else {
        return nothing("it had no earlier revision to return to");
    };
    // The undo itself is `rollwatch undo`'s; a revision that is gone leaves nothing to undo.
    let cause = format!("rollwatch rolled back {deployment} to revision {before} after a failed rollout");
    match rollout::undo_own_change(tracker, &deployment, Some(before), &cause, written).await {
        Ok(Some(rollout::Undone::Restored { revision, images })) => Ok(Undone::RolledBack { deployment, revision, images }),
        Ok(Some(rollout::Undone::AlreadyCurrent { .. })) => nothing("this run did not start a new rollout of it"),
        Ok(None) => nothing("another writer changed its template after this run did; their change is kept"),
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
