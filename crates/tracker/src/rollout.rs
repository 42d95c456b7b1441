//! Rollout management on the cluster, as `kubectl rollout` does it: the history of a Deployment,
//! StatefulSet or DaemonSet, undo to a revision, pause and resume (Deployments), and restart.
//! What changes a template records a change cause, so the history says who changed what.
//! The decisions (which revisions, which one to undo to, the patches) are
//! [`rollwatch_verdict::history`]'s; this module reads and patches.

use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::history::{self, CHANGE_CAUSE_ANNOTATION, Revision, UndoPatch, UndoTarget};
use rollwatch_verdict::registry::{self, Kind};
use serde_json::{Value, json};

use crate::apply::FIELD_MANAGER;
use crate::retry::retrying;
use crate::{Error, Tracker};

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

/// A workload as read, and its revisions, oldest first.
#[derive(Debug, Clone)]
pub struct History {
    pub workload: Value,
    pub revisions: Vec<Revision>,
    /// The ReplicaSets or ControllerRevisions the revisions were read from, as the server
    /// returned them (with apiVersion and kind), to show a revision as kubectl shows it.
    pub objects: Vec<Value>,
}

/// The text rollwatch records as `kubernetes.io/change-cause`: the command as it was run
/// (`rollwatch set image deployment/web app=web:2`), as kubectl's `--record` did.
pub fn change_cause(args: impl IntoIterator<Item = String>) -> String {
    let mut args = args.into_iter();
    let program = args.next().map(|p| p.rsplit('/').next().unwrap_or_default().to_string()).unwrap_or_else(|| "rollwatch".into());
    std::iter::once(program).chain(args.map(|a| quote(&a))).collect::<Vec<_>>().join(" ")
}

/// An argument as a shell would need it, so the recorded command can be read back unambiguously.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_=/.:,@+%".contains(c));
    if plain { arg.to_string() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

/// Fails unless `object`'s kind has a rollout history (and so can be undone), as its registry row
/// says. Needs no cluster, so commands check before connecting.
pub fn check_has_history(object: &ObjectRef) -> Result<(), Error> {
    history_source(object).map(drop)
}

/// Where `object`'s revisions come from.
fn history_source(object: &ObjectRef) -> Result<registry::History, Error> {
    object
        .row()
        .and_then(|row| row.rollout.history)
        .ok_or_else(|| Error::input(format!("{object}: {}", history::HistoryError::NoHistoryForKind { kind: object.kind.clone() })))
}

/// Fails unless `object`'s kind can be restarted through its pod template, as its registry row says.
pub fn check_restartable(object: &ObjectRef) -> Result<(), Error> {
    match object.row() {
        Some(row) if row.rollout.restartable => Ok(()),
        _ => Err(Error::input(format!("{object}: {}", history::HistoryError::NoHistoryForKind { kind: object.kind.clone() }))),
    }
}

/// Fails unless `object` can be paused and resumed, as its registry row says: only Deployments can.
pub fn check_pausable(object: &ObjectRef) -> Result<(), Error> {
    if object.row().is_some_and(|row| row.rollout.pausable) {
        return Ok(());
    }
    Err(Error::input(format!(
        "{object} cannot be paused or resumed: only Deployments can (a StatefulSet stages a rollout with spec.updateStrategy.rollingUpdate.partition)"
    )))
}

/// Reads `object` (a Deployment, StatefulSet or DaemonSet) and the revisions of its history.
pub async fn history(tracker: &Tracker, object: &ObjectRef) -> Result<History, Error> {
    let source = history_source(object)?;
    let workload = read(tracker, object).await?;
    let selector = match_labels(&workload);
    let owned = list(tracker, object, source.kind(), &selector).await?;
    // ControllerRevisions do not count their pods: the pods of each revision are counted here.
    let pods = match source {
        registry::History::ReplicaSets => Vec::new(),
        registry::History::ControllerRevisions => list(tracker, object, &registry::POD, &selector).await?,
    };
    let revisions = history::revisions(&workload, &owned, &pods).map_err(|e| Error::input(format!("{object}: {e}")))?;
    Ok(History { workload, revisions, objects: owned })
}

/// What [`undo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    /// The template is back to this revision's; a rollout starts.
    Restored { revision: i64, images: Vec<String> },
    /// The template already was this revision's: nothing changed.
    AlreadyCurrent { revision: i64 },
}

/// Returns `object` to revision `to` (default: the newest but one), as `kubectl rollout undo`:
/// a missing revision is an input error; a paused Deployment must be resumed first.
pub async fn undo(tracker: &Tracker, object: &ObjectRef, to: Option<i64>, change_cause: &str) -> Result<Undone, Error> {
    let history = history(tracker, object).await?;
    restore(tracker, object, &history, to, change_cause, None).await.map_err(|failure| failure.error)
}

/// How many times [`undo_own_change`] reads again after a write it raced with.
const CONFLICT_RETRIES: usize = 5;

/// Like [`undo`], but only while `object`'s pod template is still `written` (the template a
/// run's own write left): `None` when another writer has changed it since, whose change is
/// kept. The undo carries the resourceVersion it checked as a precondition, so a write landing
/// between the check and the undo makes the server refuse it, and the check is made again.
pub async fn undo_own_change(tracker: &Tracker, object: &ObjectRef, to: Option<i64>, change_cause: &str, written: &Value) -> Result<Option<Undone>, Error> {
    for _ in 0..CONFLICT_RETRIES {
        let history = history(tracker, object).await?;
        if history.workload["spec"]["template"] != *written {
            return Ok(None);
        }
        let Some(checked) = history.workload["metadata"]["resourceVersion"].as_str().map(str::to_string) else {
            return Err(Error::cluster(format!("reading {object}: the server sent no metadata.resourceVersion")));
        };
        match restore(tracker, object, &history, to, change_cause, Some(&checked)).await {
            Err(failure) if failure.conflict => continue,
            result => return result.map(Some).map_err(|failure| failure.error),
        }
    }
    Err(Error::cluster(format!("undoing {object}: it changed under every one of {CONFLICT_RETRIES} attempts")))
}

/// Why [`restore`] failed; `conflict`: the resourceVersion precondition did not hold.
struct RestoreFailure {
    error: Error,
    conflict: bool,
}

impl From<Error> for RestoreFailure {
    fn from(error: Error) -> Self {
        Self { error, conflict: false }
    }
}

/// Patches `history`'s workload back to revision `to`; with `resource_version`, only if the
/// workload still is at that version.
async fn restore(
    tracker: &Tracker,
    object: &ObjectRef,
    history: &History,
    to: Option<i64>,
    change_cause: &str,
    resource_version: Option<&str>,
) -> Result<Undone, RestoreFailure> {
    let History { workload, revisions, .. } = history;
    if workload["spec"]["paused"] == true {
        return Err(Error::input(format!("{object} is paused: resume it first (rollwatch resume {object}), then undo")).into());
    }
    let target = history::undo_target(revisions, to).map_err(|e| Error::input(format!("{object}: {e}")))?;
    let revision = match target {
        UndoTarget::AlreadyCurrent(revision) => return Ok(Undone::AlreadyCurrent { revision: revision.number }),
        UndoTarget::Restore(revision) => revision,
    };
    let context = format!("undoing {object} to revision {}", revision.number);
    let api = api(tracker, object, namespace_of(tracker, object)).await?;
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    let failed =
        |e: kube::Error| RestoreFailure { conflict: matches!(&e, kube::Error::Api(status) if status.code == 409), error: Error::from_kube_input(&context, &e) };
    match history::undo_patch(workload, revision, change_cause) {
        UndoPatch::Json(mut patch) => {
            if let (Some(version), Some(operations)) = (resource_version, patch.as_array_mut()) {
                // A resourceVersion in a patch is a precondition: the server answers 409 Conflict
                // when the object has moved on.
                operations.push(json!({"op": "replace", "path": "/metadata/resourceVersion", "value": version}));
            }
            let patch: json_patch::Patch = serde_json::from_value(patch).map_err(|e| Error::cluster(format!("{context}: building the patch: {e}")))?;
            let patch = Patch::<()>::Json(patch);
            retrying(|| api.patch(&object.name, &params, &patch)).await.map_err(failed)?;
        }
        UndoPatch::Strategic(mut patch) => {
            if let Some(version) = resource_version {
                patch["metadata"]["resourceVersion"] = json!(version);
            }
            let workload_patch = Patch::Strategic(&patch);
            retrying(|| api.patch(&object.name, &params, &workload_patch)).await.map_err(failed)?;
            // The controller reuses the ControllerRevision of an equal template and keeps its
            // annotations, so the cause goes on it too, or history (ours and kubectl's) misses it.
            let holder =
                ObjectRef::in_group(registry::CONTROLLER_REVISION.group, registry::CONTROLLER_REVISION.kind, object.namespace.clone(), revision.name.clone());
            let cause = json!({"metadata": {"annotations": {CHANGE_CAUSE_ANNOTATION: change_cause}}});
            let context = format!("{object} was undone to revision {}, but recording the change cause on {holder}", revision.number);
            patch_object(tracker, &holder, &Patch::Merge(&cause), &context).await?;
        }
    }
    Ok(Undone::Restored { revision: revision.number, images: revision.images.clone() })
}

/// Pauses (`true`) or resumes a Deployment; only Deployments can be paused. Returns whether
/// anything changed (false: it already was).
pub async fn set_paused(tracker: &Tracker, object: &ObjectRef, paused: bool) -> Result<bool, Error> {
    check_pausable(object)?;
    let workload = read(tracker, object).await?;
    if (workload["spec"]["paused"] == true) == paused {
        return Ok(false);
    }
    let context = format!("{} {object}", if paused { "pausing" } else { "resuming" });
    patch_object(tracker, object, &Patch::Merge(json!({"spec": {"paused": paused}})), &context).await?;
    Ok(true)
}

/// Restarts the pods of `object` by stamping the pod template with `now`, as `kubectl rollout
/// restart`; a paused Deployment must be resumed first (its template change would wait).
pub async fn restart(tracker: &Tracker, object: &ObjectRef, now: jiff::Timestamp, change_cause: &str) -> Result<(), Error> {
    check_restartable(object)?;
    let workload = read(tracker, object).await?;
    if workload["spec"]["paused"] == true {
        return Err(Error::input(format!("{object} is paused: resume it first (rollwatch resume {object}), then restart")));
    }
    let patch = json!({
        "metadata": {"annotations": {CHANGE_CAUSE_ANNOTATION: change_cause}},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}}}},
    });
    patch_object(tracker, object, &Patch::Strategic(&patch), &format!("restarting {object}")).await
}

async fn api(tracker: &Tracker, object: &ObjectRef, namespace: &str) -> Result<Api<DynamicObject>, Error> {
    let resource = tracker.resolver().for_kind(&object.group, &object.kind).await?;
    Ok(Api::namespaced_with(tracker.client().clone(), namespace, &resource.api))
}

fn namespace_of<'a>(tracker: &'a Tracker, object: &'a ObjectRef) -> &'a str {
    object.namespace.as_deref().unwrap_or(tracker.default_namespace())
}

/// The workload as JSON, with its kind (a missing object is the user's input error).
async fn read(tracker: &Tracker, object: &ObjectRef) -> Result<Value, Error> {
    let api = api(tracker, object, namespace_of(tracker, object)).await?;
    let found = retrying(|| api.get(&object.name)).await.map_err(|e| Error::from_kube_input(&format!("reading {object}"), &e))?;
    let mut value = serde_json::to_value(found).map_err(|e| Error::cluster(format!("reading {object}: {e}")))?;
    value["kind"] = json!(object.kind);
    Ok(value)
}

/// `spec.selector.matchLabels` as a label selector: narrows the listing; ownership decides.
fn match_labels(workload: &Value) -> String {
    let labels = workload["spec"]["selector"]["matchLabels"].as_object();
    labels.into_iter().flatten().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(",")
}

async fn list(tracker: &Tracker, object: &ObjectRef, kind: &Kind, selector: &str) -> Result<Vec<Value>, Error> {
    let resource = tracker.resolver().for_row(kind).await?;
    let api: Api<DynamicObject> = Api::namespaced_with(tracker.client().clone(), namespace_of(tracker, object), &resource.api);
    let kind = kind.kind;
    let params = ListParams::default().labels(selector);
    let listed = retrying(|| api.list(&params)).await.map_err(|e| Error::from_kube(&format!("listing the {kind}s of {object}"), &e))?;
    // A list's items come without their apiVersion and kind; they are the list's.
    let types = kube::core::TypeMeta { api_version: resource.api.api_version.clone(), kind: resource.api.kind.clone() };
    let typed = listed.items.into_iter().map(|mut item| {
        item.types.get_or_insert_with(|| types.clone());
        item
    });
    typed.map(|item| serde_json::to_value(item).map_err(|e| Error::cluster(format!("reading a {kind} of {object}: {e}")))).collect()
}

async fn patch_object<P: serde::Serialize + std::fmt::Debug>(tracker: &Tracker, object: &ObjectRef, patch: &Patch<P>, context: &str) -> Result<(), Error> {
    let api = api(tracker, object, namespace_of(tracker, object)).await?;
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    retrying(|| api.patch(&object.name, &params, patch)).await.map(drop).map_err(|e| Error::from_kube_input(context, &e))
}

#[cfg(test)]
mod tests {
    use super::change_cause;

    #[test]
    fn the_change_cause_is_the_command_as_run_without_the_programs_path() {
        let args = ["/usr/local/bin/rollwatch", "set", "image", "deployment/web", "app=web:2"].map(String::from);
        assert_eq!(change_cause(args), "rollwatch set image deployment/web app=web:2");
        let args = ["rollwatch", "apply", "-f", "my dir/web.yaml", "--timeout=5m"].map(String::from);
        assert_eq!(change_cause(args), "rollwatch apply -f 'my dir/web.yaml' --timeout=5m");
    }
}
