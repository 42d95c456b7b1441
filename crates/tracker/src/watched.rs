//! The objects feeds receive, read once: straight into the typed form the verdicts read (kinds
//! with typed rules), else as the JSON the API server sent, minus `metadata.managedFields`, which
//! are skipped while reading rather than read and then dropped.
//!
//! kube's watcher reads each object with no word of the feed it belongs to, and LIST items do not
//! name their kind, so a feed says what it reads through a task-local [`Reading`] around its LISTs
//! and watches. Objects are then read in one pass; reading them as a value tree and then into the
//! typed form was most of rollwatch's CPU per watch event. Should an object not read into its
//! typed form (a field of an unexpected type), the feed's request fails, the feed reads value
//! trees from then on, and its retry hands the engine the object, whose error names the field.
//!
//! kube's `DynamicObject` reads every object twice over (its flattened fields are buffered first)
//! and parses managedFields into typed entries. Nothing reads managedFields, and they are often
//! most of an object.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use kube::core::{ApiResource, DynamicResourceScope, ObjectMeta, Resource};
use rollwatch_verdict::{Decoded, ObjectRef, TypedKind};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

tokio::task_local! {
    /// What the current feed reads (see the module's documentation).
    pub(crate) static READING: Reading;
}

/// How a feed reads its objects.
pub(crate) struct Reading {
    /// The typed form its objects are read into; `None`: as JSON.
    typed: Cell<Option<TypedKind>>,
}

impl Reading {
    pub(crate) fn new(resource: &ApiResource) -> Self {
        Reading { typed: Cell::new(TypedKind::of(&resource.api_version, &resource.kind)) }
    }
}

/// An object as a feed hands it to the engine.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
    /// Read into its typed form.
    Decoded(Box<Decoded>),
    /// As JSON, with its `kind` and `apiVersion` set.
    Json(Value),
}

impl Incoming {
    /// Which object it is; `None` for JSON without a kind or name.
    pub(crate) fn key(&self) -> Option<ObjectRef> {
        match self {
            Incoming::Decoded(decoded) => Some(decoded.key().clone()),
            Incoming::Json(object) => ObjectRef::of_object(object),
        }
    }
}

/// One object as read, with the few metadata fields kube's watcher reads kept apart.
#[derive(Debug, Clone)]
pub(crate) struct Watched {
    /// Name, namespace, uid and resourceVersion: what the watcher needs to resume.
    metadata: ObjectMeta,
    object: Read,
}

#[derive(Debug, Clone)]
enum Read {
    Decoded(Box<Decoded>),
    Json(Map<String, Value>),
}

impl Watched {
    /// The object as the engine takes it: JSON gets its type set (list items come without it).
    pub(crate) fn into_incoming(self, resource: &ApiResource) -> Incoming {
        match self.object {
            Read::Decoded(decoded) => Incoming::Decoded(decoded),
            Read::Json(mut object) => {
                object.entry("apiVersion").or_insert_with(|| Value::String(resource.api_version.clone()));
                object.entry("kind").or_insert_with(|| Value::String(resource.kind.clone()));
                Incoming::Json(Value::Object(object))
            }
        }
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
        if let Some(kind) = READING.try_with(|reading| reading.typed.get()).ok().flatten() {
            let mut decoded = Decoded::read(deserializer, kind).inspect_err(|_| {
                let _ = READING.try_with(|reading| reading.typed.set(None));
            })?;
            // The watch keeps the version it resumes from; the object kept for the rules does not.
            let resource_version = decoded.take_resource_version().map(String::from);
            let key = decoded.key();
            let metadata = ObjectMeta {
                name: Some(key.name.clone()),
                namespace: key.namespace.clone(),
                uid: decoded.metadata().uid.as_ref().map(ToString::to_string),
                resource_version,
                ..ObjectMeta::default()
            };
            return Ok(Watched { metadata, object: Read::Decoded(Box::new(decoded)) });
        }
        let object = deserializer.deserialize_map(ObjectVisitor { skip_managed_fields: false })?;
        let mut metadata = ObjectMeta::default();
        if let Some(Value::Object(meta)) = object.get("metadata") {
            let text = |field: &str| meta.get(field).and_then(Value::as_str).map(str::to_owned);
            metadata.name = text("name");
            metadata.namespace = text("namespace");
            metadata.uid = text("uid");
            metadata.resource_version = text("resourceVersion");
        }
        Ok(Watched { metadata, object: Read::Json(object) })
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
        assert!(matches!(watched.into_incoming(&pods()), Incoming::Json(object) if object == expected));
    }

    #[test]
    fn a_type_sent_with_the_object_is_kept() {
        let watched: Watched = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})).unwrap();
        let mut other = pods();
        other.kind = "Other".into();
        assert!(matches!(watched.into_incoming(&other), Incoming::Json(object) if object["kind"] == "Pod"));
    }

    #[test]
    fn only_metadata_loses_a_field_named_managed_fields() {
        let watched: Watched = serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"managedFields": "kept"}})).unwrap();
        assert!(matches!(watched.into_incoming(&pods()), Incoming::Json(object) if object["data"]["managedFields"] == "kept"));
    }

    fn pod(container_statuses: Value) -> String {
        json!({
            "metadata": {
                "name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
                "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}],
            },
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            "status": {"phase": "Running", "containerStatuses": container_statuses},
        })
        .to_string()
    }

    #[test]
    fn a_feed_of_a_kind_with_typed_rules_reads_its_objects_straight_into_the_typed_form() {
        let watched: Watched = READING.sync_scope(Reading::new(&pods()), || serde_json::from_str(&pod(json!([])))).unwrap();
        assert_eq!(watched.meta().resource_version.as_deref(), Some("42"));
        assert_eq!(watched.meta().uid.as_deref(), Some("u1"));
        let Incoming::Decoded(decoded) = watched.into_incoming(&pods()) else { panic!("read as JSON") };
        assert_eq!(decoded.key(), &ObjectRef::new("Pod", Some("shop".into()), "web-1"));
        assert!(decoded.to_value()["metadata"].get("managedFields").is_none(), "managedFields are not kept");
        assert!(decoded.metadata().identity.is_none(), "the name is held once, in the key; the watch keeps the resourceVersion, the object does not");
        assert!(decoded.to_value()["metadata"].get("resourceVersion").is_none(), "{}", decoded.to_value());
        assert_eq!((&decoded.to_value()["metadata"]["name"], &decoded.to_value()["metadata"]["namespace"]), (&json!("web-1"), &json!("shop")));
        assert_eq!(decoded.to_value()["status"]["phase"], "Running");
    }

    #[test]
    fn an_object_that_does_not_read_typed_fails_the_request_and_the_feed_reads_json_from_then_on() {
        let bad = pod(json!("running"));
        READING.sync_scope(Reading::new(&pods()), || {
            let error = serde_json::from_str::<Watched>(&bad).unwrap_err();
            assert!(error.to_string().contains("invalid type"), "{error}");
            // The retry: as JSON, so the engine can name the field at fault.
            let watched: Watched = serde_json::from_str(&bad).unwrap();
            let Incoming::Json(object) = watched.into_incoming(&pods()) else { panic!("read typed again") };
            let error = Decoded::from_value(object).unwrap_err();
            assert_eq!((error.object.as_str(), error.field.as_str()), ("pod/web-1", "status.containerStatuses"), "{error}");
            // Later objects too, though they would read.
            let good: Watched = serde_json::from_str(&pod(json!([]))).unwrap();
            assert!(matches!(good.into_incoming(&pods()), Incoming::Json(_)));
        });
    }

    #[test]
    fn a_kind_without_typed_rules_is_read_as_json() {
        let widgets = ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
        };
        let watched: Watched =
            READING.sync_scope(Reading::new(&widgets), || serde_json::from_str(r#"{"metadata": {"name": "w"}, "spec": {"size": 3}}"#)).unwrap();
        assert!(matches!(watched.into_incoming(&widgets), Incoming::Json(object) if object["spec"]["size"] == 3 && object["kind"] == "Widget"));
    }
}
