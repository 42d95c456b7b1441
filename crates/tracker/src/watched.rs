//! The objects feeds receive: the JSON the API server sent, minus `metadata.managedFields`, which
//! are skipped while reading rather than read and then dropped.
//!
//! kube's `DynamicObject` reads every object twice over (its flattened fields are buffered first)
//! and parses managedFields into typed entries; with 1,000 Deployments rolling out, that and the
//! conversion back to JSON were most of rollwatch's CPU time. Nothing reads managedFields, and
//! they are often most of an object.

use std::borrow::Cow;
use std::fmt;

use kube::core::{ApiResource, DynamicResourceScope, ObjectMeta, Resource};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// One object as JSON, with the few metadata fields kube's watcher reads kept apart.
#[derive(Debug, Clone)]
pub(crate) struct Watched {
    /// Name, namespace, uid and resourceVersion: what the watcher needs to resume.
    metadata: ObjectMeta,
    object: Map<String, Value>,
}

impl Watched {
    /// The object as the verdict engine takes it: with its type set (list items come without it).
    pub(crate) fn into_json(mut self, resource: &ApiResource) -> Value {
        self.object.entry("apiVersion").or_insert_with(|| Value::String(resource.api_version.clone()));
        self.object.entry("kind").or_insert_with(|| Value::String(resource.kind.clone()));
        Value::Object(self.object)
    }
}

impl Resource for Watched {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn kind(resource: &ApiResource) -> Cow<'_, str> {
        resource.kind.as_str().into()
    }

    fn group(resource: &ApiResource) -> Cow<'_, str> {
        resource.group.as_str().into()
    }

    fn version(resource: &ApiResource) -> Cow<'_, str> {
        resource.version.as_str().into()
    }

    fn api_version(resource: &ApiResource) -> Cow<'_, str> {
        resource.api_version.as_str().into()
    }

    fn plural(resource: &ApiResource) -> Cow<'_, str> {
        resource.plural.as_str().into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<'de> Deserialize<'de> for Watched {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = deserializer.deserialize_map(ObjectVisitor { skip_managed_fields: false })?;
        let mut metadata = ObjectMeta::default();
        if let Some(Value::Object(meta)) = object.get("metadata") {
            let text = |field: &str| meta.get(field).and_then(Value::as_str).map(str::to_owned);
            metadata.name = text("name");
            metadata.namespace = text("namespace");
            metadata.uid = text("uid");
            metadata.resource_version = text("resourceVersion");
        }
        Ok(Watched { metadata, object })
    }
}

/// Reads a JSON object into a map; the top level reads its `metadata` with `skip_managed_fields`.
struct ObjectVisitor {
    skip_managed_fields: bool,
}

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.skip_managed_fields && key == "managedFields" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = if !self.skip_managed_fields && key == "metadata" { Value::Object(map.next_value::<Metadata>()?.0) } else { map.next_value()? };
            object.insert(key, value);
        }
        Ok(object)
    }
}

/// An object's metadata without managedFields.
struct Metadata(Map<String, Value>);

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor { skip_managed_fields: true }).map(Metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods() -> ApiResource {
        ApiResource { group: String::new(), version: "v1".into(), api_version: "v1".into(), kind: "Pod".into(), plural: "pods".into() }
    }

    #[test]
    fn managed_fields_are_skipped_and_the_rest_kept_as_sent() {
        let sent = json!({
            "metadata": {
                "name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
                "labels": {"app": "web"},
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
            },
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            "status": {"phase": "Running"},
        });
        let watched: Watched = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(watched.meta().resource_version.as_deref(), Some("42"));
        assert_eq!(watched.meta().name.as_deref(), Some("web-1"));
        let mut expected = sent;
        expected["metadata"].as_object_mut().unwrap().remove("managedFields");
        expected["apiVersion"] = json!("v1");
        expected["kind"] = json!("Pod");
        assert_eq!(watched.into_json(&pods()), expected);
    }

    #[test]
    fn a_type_sent_with_the_object_is_kept() {
        let watched: Watched = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})).unwrap();
        let mut other = pods();
        other.kind = "Other".into();
        assert_eq!(watched.into_json(&other)["kind"], "Pod");
    }

    #[test]
    fn only_metadata_loses_a_field_named_managed_fields() {
        let watched: Watched = serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"managedFields": "kept"}})).unwrap();
        assert_eq!(watched.into_json(&pods())["data"]["managedFields"], "kept");
    }
}
