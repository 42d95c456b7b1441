//! Rollout history from objects, as `kubectl rollout history` and `undo` see it: the revisions
//! of a Deployment (its ReplicaSets) or of a StatefulSet or DaemonSet (its ControllerRevisions),
//! which revision an undo goes back to, the patch that does it, and a readable diff of two
//! revisions' pod templates ([`diff`]). Pure: the caller lists the objects.

pub mod diff;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::registry::{self, History};

/// Written on changed objects so that history says who changed what.
pub const CHANGE_CAUSE_ANNOTATION: &str = "kubernetes.io/change-cause";
/// The revision number the Deployment controller writes on ReplicaSets.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// The label the Deployment controller adds to each ReplicaSet's template.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// The label StatefulSet and DaemonSet pods carry to name their revision.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// Deployment annotations an undo keeps from the Deployment rather than taking from the
/// ReplicaSet (kubectl's `annotationsToSkip`).
const ANNOTATIONS_KEPT_ON_UNDO: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// One revision of a workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub number: i64,
    /// The ReplicaSet or ControllerRevision that holds it.
    pub name: String,
    pub created: Option<jiff::Timestamp>,
    pub change_cause: Option<String>,
    /// Images of the init containers, then of the containers.
    pub images: Vec<String>,
    /// Pods of this revision that exist now (not terminating, not finished).
    pub pods: u32,
    /// Whether the workload's template is this revision's now.
    pub current: bool,
    /// The pod template, without what the controller adds (the `pod-template-hash` label).
    pub template: Value,
    /// The annotations of the ReplicaSet or ControllerRevision (a Deployment's undo restores them).
    #[serde(skip)]
    annotations: Map<String, Value>,
}

/// Why there is no history, or no revision to undo to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("{kind} has no rollout history: only Deployments, StatefulSets and DaemonSets do")]
    NoHistoryForKind { kind: String },
    #[error("no earlier revision to undo to (the only revision is {only})")]
    NoEarlierRevision { only: i64 },
    #[error("no rollout history found (no revisions)")]
    Empty,
    #[error("revision {wanted} not found in the history (revisions: {})", join(available))]
    RevisionNotFound { wanted: i64, available: Vec<i64> },
}

fn join(numbers: &[i64]) -> String {
    numbers.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// The revisions of `workload` (a Deployment, StatefulSet or DaemonSet as JSON), oldest first,
/// from `owned` (its ReplicaSets or ControllerRevisions; objects it does not control are
/// ignored) and `pods` (for StatefulSets and DaemonSets, whose revisions count their pods).
pub fn revisions(workload: &Value, owned: &[Value], pods: &[Value]) -> Result<Vec<Revision>, HistoryError> {
    let kind = workload["kind"].as_str().unwrap_or_default();
    let Some(source) = registry::of_object(workload).and_then(|row| row.rollout.history) else {
        return Err(HistoryError::NoHistoryForKind { kind: kind.to_string() });
    };
    let uid = &workload["metadata"]["uid"];
    let live_template = normalize_template(&workload["spec"]["template"]);
    let controlled = owned
        .iter()
        .filter(|object| object["metadata"]["ownerReferences"].as_array().into_iter().flatten().any(|o| o["uid"] == *uid && o["controller"] == true));
    let mut revisions: Vec<Revision> = controlled
        .filter_map(|object| {
            let (number, template, pods) = if source == History::ReplicaSets {
                let number = object["metadata"]["annotations"][REVISION_ANNOTATION].as_str()?.parse().ok()?;
                let running = object["status"]["replicas"].as_u64().unwrap_or(0);
                (number, normalize_template(&object["spec"]["template"]), u32::try_from(running).unwrap_or(u32::MAX))
            } else {
                let number = object["revision"].as_i64()?;
                (number, normalize_template(&object["data"]["spec"]["template"]), pods_of_revision(object, uid, pods))
            };
            let metadata = &object["metadata"];
            Some(Revision {
                number,
                name: metadata["name"].as_str().unwrap_or_default().to_string(),
                created: metadata["creationTimestamp"].as_str().and_then(|t| t.parse().ok()),
                change_cause: metadata["annotations"][CHANGE_CAUSE_ANNOTATION].as_str().map(str::to_string),
                images: images(&template),
                pods,
                current: template == live_template,
                template,
                annotations: metadata["annotations"].as_object().cloned().unwrap_or_default(),
            })
        })
        .collect();
    revisions.sort_by_key(|r| r.number);
    Ok(revisions)
}

/// Pods owned by the workload `uid` whose revision label names this ControllerRevision: its
/// name (StatefulSets) or its hash label (DaemonSets).
fn pods_of_revision(revision: &Value, uid: &Value, pods: &[Value]) -> u32 {
    let name = &revision["metadata"]["name"];
    let hash = &revision["metadata"]["labels"][REVISION_HASH_LABEL];
    let count = pods
        .iter()
        .filter(|pod| pod["metadata"]["ownerReferences"].as_array().into_iter().flatten().any(|o| o["uid"] == *uid))
        .filter(|pod| pod["metadata"]["deletionTimestamp"].is_null() && !matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        .filter(|pod| {
            let label = &pod["metadata"]["labels"][REVISION_HASH_LABEL];
            !label.is_null() && (label == name || label == hash)
        })
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// A pod template as the user wrote it: without the controller's `pod-template-hash` label, the
/// `$patch` directive of ControllerRevisions and the null `creationTimestamp`.
pub fn normalize_template(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(object) = template.as_object_mut() {
        object.remove("$patch");
    }
    if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        if metadata.get("creationTimestamp").is_some_and(Value::is_null) {
            metadata.remove("creationTimestamp");
        }
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove(POD_TEMPLATE_HASH_LABEL);
        }
    }
    template
}

/// Images of a pod template's init containers, then containers.
fn images(template: &Value) -> Vec<String> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|list| template["spec"][*list].as_array().into_iter().flatten())
        .filter_map(|c| c["image"].as_str().map(str::to_string))
        .collect()
}

/// The revision with this number.
pub fn find(revisions: &[Revision], number: i64) -> Result<&Revision, HistoryError> {
    revisions
        .iter()
        .find(|r| r.number == number)
        .ok_or_else(|| HistoryError::RevisionNotFound { wanted: number, available: revisions.iter().map(|r| r.number).collect() })
}

/// Where an undo goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UndoTarget<'a> {
    /// Back to this revision's template.
    Restore(&'a Revision),
    /// The workload's template already is this revision's: nothing to do.
    AlreadyCurrent(&'a Revision),
}

/// The revision an undo returns to, as kubectl picks it: `to` if given, else the newest but one.
pub fn undo_target(revisions: &[Revision], to: Option<i64>) -> Result<UndoTarget<'_>, HistoryError> {
    let target = match to {
        Some(number) => find(revisions, number)?,
        None => match revisions {
            [] => return Err(HistoryError::Empty),
            [only] => return Err(HistoryError::NoEarlierRevision { only: only.number }),
            [.., previous, _] => previous,
        },
    };
    Ok(if target.current { UndoTarget::AlreadyCurrent(target) } else { UndoTarget::Restore(target) })
}

/// How to return a workload to `revision`.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoPatch {
    /// A JSON patch (Deployments, as kubectl: the template, and the ReplicaSet's annotations).
    Json(Value),
    /// A strategic merge patch (StatefulSets and DaemonSets, as kubectl: the revision's data).
    Strategic(Value),
}

/// The patch that returns `workload` to `revision`'s template, as `kubectl rollout undo` makes it,
/// with `change_cause` recorded. Like kubectl's, it has no resourceVersion precondition: the
/// controllers write the workload's status all through a rollout, which would make it fail.
pub fn undo_patch(workload: &Value, revision: &Revision, change_cause: &str) -> UndoPatch {
    if registry::of_object(workload).and_then(|row| row.rollout.history) == Some(History::ReplicaSets) {
        let current = workload["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
        let mut annotations: Map<String, Value> = current.into_iter().filter(|(key, _)| ANNOTATIONS_KEPT_ON_UNDO.contains(&key.as_str())).collect();
        for (key, value) in &revision.annotations {
            if !ANNOTATIONS_KEPT_ON_UNDO.contains(&key.as_str()) {
                annotations.insert(key.clone(), value.clone());
            }
        }
        annotations.insert(CHANGE_CAUSE_ANNOTATION.into(), change_cause.into());
        UndoPatch::Json(json!([
            {"op": "replace", "path": "/spec/template", "value": revision.template},
            {"op": "add", "path": "/metadata/annotations", "value": annotations},
        ]))
    } else {
        let mut template = revision.template.clone();
        template["$patch"] = json!("replace");
        UndoPatch::Strategic(json!({
            "metadata": {"annotations": {CHANGE_CAUSE_ANNOTATION: change_cause}},
            "spec": {"template": template},
        }))
    }
}

#[cfg(test)]
mod tests;
