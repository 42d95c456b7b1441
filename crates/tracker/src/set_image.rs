//! `set image`: change container images of a workload, as `kubectl set image` does.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::history::CHANGE_CAUSE_ANNOTATION;
use serde_json::{Value, json};

use crate::apply::FIELD_MANAGER;
use crate::{Error, Tracker};

/// `CONTAINER=IMAGE`; container `*` means every container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageAssignment {
    pub container: String,
    pub image: String,
}

impl std::str::FromStr for ImageAssignment {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.split_once('=') {
            Some((container, image)) if !container.is_empty() && !image.is_empty() => Ok(Self { container: container.to_string(), image: image.to_string() }),
            _ => Err(Error::input(format!("invalid image assignment {text:?}: expected CONTAINER=IMAGE, e.g. app=repo/app:v2"))),
        }
    }
}

/// One container whose image was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChange {
    pub container: String,
    pub from: String,
    pub to: String,
}

/// What [`set_image`] changed.
#[derive(Debug, Clone)]
pub struct ImagesSet {
    pub changes: Vec<ImageChange>,
    /// The object as the server stored it, for a rollback to check nobody changed it since.
    pub stored: Value,
}

/// Sets images on `object`'s pod template (or on the pod itself), recording `change_cause`;
/// fails naming the container when the object has no container of that name.
pub async fn set_image(tracker: &Tracker, object: &ObjectRef, assignments: &[ImageAssignment], change_cause: &str) -> Result<ImagesSet, Error> {
    let resource = tracker.resolver().for_kind(&object.group, &object.kind).await?;
    let api: Api<DynamicObject> = match &object.namespace {
        Some(namespace) if resource.namespaced => Api::namespaced_with(tracker.client().clone(), namespace, &resource.api),
        _ => Api::all_with(tracker.client().clone(), &resource.api),
    };
    let current = crate::retry::retrying(|| api.get(&object.name)).await.map_err(|e| Error::from_kube_input(&format!("reading {object}"), &e))?;
    // A kind outside the registry (a custom workload) is taken to keep its pod template where
    // the built-in workloads do.
    let pod_spec_path = match object.row() {
        Some(row) => row.rollout.pod_spec.ok_or_else(|| Error::input(format!("{object} has no pod template to set images on")))?,
        None => &["spec", "template", "spec"],
    };
    let pod_spec = pod_spec_path.iter().try_fold(&current.data, |value, key| value.get(key)).cloned().unwrap_or(Value::Null);
    let mut changes = Vec::new();
    let mut patch_lists = serde_json::Map::new();
    for list in ["initContainers", "containers"] {
        let mut patched = Vec::new();
        for container in pod_spec[list].as_array().into_iter().flatten() {
            let name = container["name"].as_str().unwrap_or_default();
            let Some(assignment) = assignments.iter().rev().find(|a| a.container == name || a.container == "*") else { continue };
            let from = container["image"].as_str().unwrap_or_default().to_string();
            patched.push(json!({"name": name, "image": assignment.image}));
            changes.push(ImageChange { container: name.to_string(), from, to: assignment.image.clone() });
        }
        if !patched.is_empty() {
            patch_lists.insert(list.to_string(), Value::Array(patched));
        }
    }
    let all_names: Vec<&str> =
        ["initContainers", "containers"].iter().flat_map(|list| pod_spec[*list].as_array().into_iter().flatten()).filter_map(|c| c["name"].as_str()).collect();
    if let Some(missing) = assignments.iter().find(|a| a.container != "*" && !all_names.contains(&a.container.as_str())) {
        return Err(Error::input(format!("{object} has no container named {:?} (its containers: {})", missing.container, all_names.join(", "))));
    }
    let mut patch = Value::Object(patch_lists);
    for key in pod_spec_path.iter().rev() {
        patch = json!({ *key: patch });
    }
    patch["metadata"] = json!({"annotations": {CHANGE_CAUSE_ANNOTATION: change_cause}});
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    let patch = Patch::Strategic(&patch);
    let stored = crate::retry::retrying(|| api.patch(&object.name, &params, &patch))
        .await
        .map_err(|e| Error::from_kube_input(&format!("setting images on {object}"), &e))?;
    Ok(ImagesSet { changes, stored: stored.data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_is_container_equals_image() {
        let parsed: ImageAssignment = "app=repo/app:v2".parse().unwrap();
        assert_eq!(parsed, ImageAssignment { container: "app".into(), image: "repo/app:v2".into() });
        assert!("app".parse::<ImageAssignment>().is_err());
        assert!("=image".parse::<ImageAssignment>().is_err());
        assert!("app=".parse::<ImageAssignment>().is_err());
    }
}
