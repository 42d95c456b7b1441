//! Naming one object: `deployment/web`, `deploy/web`, `sts/db`, `RESOURCE.GROUP/name`, as kubectl does.

use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::registry::{self, Kind};

/// One object of the cluster, by API group, kind, namespace and name: two kinds of the same name
/// in different groups (apps' Deployment, a custom resource `Deployment` of example.com) are
/// different objects.
///
/// For built-in kinds `group` and `kind` are the [registry](crate::registry)'s. A reference the
/// user typed for a kind outside it keeps the word as written (`widgets`), with the group when one
/// was given (else `""`); the tracker resolves it to the served kind, offline `check` matches it
/// without regard to case, plural or group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: String,
    pub group: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// Why a `kind/name` argument could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object reference {input:?}: {problem} (expected KIND/NAME, e.g. deploy/web)")]
pub struct ObjectRefError {
    pub input: String,
    pub problem: &'static str,
}

/// The group and kind a kubectl-style resource word names (`deploy`, `Deployments`,
/// `deployment.apps`, `widgets.example.com`): the registry's for built-in kinds, else the word
/// as written and its group (`""` when none is given).
pub fn canonical_kind(word: &str) -> (String, String) {
    let (bare, group) = match word.split_once('.') {
        Some((bare, group)) => (bare, Some(group.to_ascii_lowercase())),
        None => (word, None),
    };
    match registry::named(bare, group.as_deref()) {
        Some(row) => (row.group.to_string(), row.kind.to_string()),
        None => (group.unwrap_or_default(), bare.to_string()),
    }
}

impl ObjectRef {
    /// A reference to a kind of Kubernetes' own, in its registry group (the first group serving a
    /// kind of that name: core before the others); a kind without a row gets no group.
    pub fn new(kind: impl Into<String>, namespace: Option<String>, name: impl Into<String>) -> Self {
        let kind = kind.into();
        let group = registry::by_kind(&kind).map_or("", |row| row.group);
        Self { group: group.to_string(), kind, namespace, name: name.into() }
    }

    /// A reference to `kind` of API group `group`; a legacy group (`extensions`) is read as the
    /// kind's own.
    pub fn in_group(group: &str, kind: impl Into<String>, namespace: Option<String>, name: impl Into<String>) -> Self {
        let kind = kind.into();
        let group = registry::find(group, &kind).map_or(group, |row| row.group);
        Self { group: group.to_string(), kind, namespace, name: name.into() }
    }

    /// The reference of an object as JSON: group from `apiVersion` (without one, the kind is
    /// taken for Kubernetes' own), kind, namespace and name.
    pub fn of_object(object: &serde_json::Value) -> Option<Self> {
        let kind = object.get("kind")?.as_str()?;
        let metadata = object.get("metadata")?;
        let name = metadata.get("name")?.as_str()?;
        let namespace = metadata.get("namespace").and_then(serde_json::Value::as_str).map(str::to_string);
        Some(match object.get("apiVersion").and_then(serde_json::Value::as_str) {
            Some(api_version) => Self::in_group(api_version.rsplit_once('/').map_or("", |(group, _)| group), kind, namespace, name),
            None => Self::new(kind, namespace, name),
        })
    }

    /// The same reference in `namespace` unless it already names one or its kind is
    /// cluster-scoped (as the registry says), as kubectl ignores `-n` for those.
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        if self.row().is_none_or(|row| row.namespaced) {
            self.namespace.get_or_insert_with(|| namespace.to_string());
        }
        self
    }

    /// The registry's row for its kind, if it is one of Kubernetes' own.
    pub fn row(&self) -> Option<&'static Kind> {
        registry::find(&self.group, &self.kind)
    }

    /// Whether it is an object of `kind`.
    pub fn is(&self, kind: &Kind) -> bool {
        self.group == kind.group && self.kind == kind.kind
    }

    /// The group where it tells the kind apart, as output shows it: for kinds outside the registry.
    pub fn shown_group(&self) -> Option<&str> {
        (!self.group.is_empty() && self.row().is_none()).then_some(self.group.as_str())
    }
}

impl FromStr for ObjectRef {
    type Err = ObjectRefError;

    /// Reads `KIND/NAME` or `RESOURCE.GROUP/NAME`; the namespace is left unset (the caller applies `-n`).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |problem| ObjectRefError { input: input.to_string(), problem };
        let (kind, name) = input.split_once('/').ok_or_else(|| error("missing '/'"))?;
        if kind.is_empty() || kind.starts_with('.') {
            return Err(error("empty kind"));
        }
        if name.is_empty() || name.contains('/') {
            return Err(error("the name must be one non-empty path segment"));
        }
        let (group, kind) = canonical_kind(kind);
        Ok(Self { group, kind, namespace: None, name: name.to_string() })
    }
}

impl fmt::Display for ObjectRef {
    /// `deployment/web` in kubectl's lower-case style, `widget.example.com/w` for a kind outside
    /// the registry; the namespace is not part of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shown_group() {
            Some(group) => write!(f, "{}.{group}/{}", self.kind.to_ascii_lowercase(), self.name),
            None => write!(f, "{}/{}", self.kind.to_ascii_lowercase(), self.name),
        }
    }
}

impl Serialize for ObjectRef {
    /// `{"kind", "group"?, "namespace"?, "name"}`: the group only for kinds outside the registry,
    /// where it tells two kinds of the same name apart.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let group = self.shown_group();
        let fields = 2 + usize::from(group.is_some()) + usize::from(self.namespace.is_some());
        let mut object = serializer.serialize_struct("ObjectRef", fields)?;
        object.serialize_field("kind", &self.kind)?;
        match group {
            Some(group) => object.serialize_field("group", group)?,
            None => object.skip_field("group")?,
        }
        match &self.namespace {
            Some(namespace) => object.serialize_field("namespace", namespace)?,
            None => object.skip_field("namespace")?,
        }
        object.serialize_field("name", &self.name)?;
        object.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_group_and_kind_as_kubectl_reads_them() {
        let read = |text: &str| text.parse::<ObjectRef>().unwrap();
        assert_eq!(read("deploy/web"), ObjectRef::in_group("apps", "Deployment", None, "web"));
        assert_eq!(read("deployments.apps/web"), read("deployment/web"));
        assert_eq!(read("hpa/web").kind, "HorizontalPodAutoscaler");
        let widget = read("widget.example.com/x");
        assert_eq!((widget.group.as_str(), widget.kind.as_str()), ("example.com", "widget"));
        assert_eq!(widget.to_string(), "widget.example.com/x");
        let custom = read("deployment.example.com/web");
        assert_eq!((custom.group.as_str(), custom.kind.as_str()), ("example.com", "deployment"));
        assert_ne!(custom, read("deployment/web"), "a custom kind of the same name is another kind");
        assert_eq!(read("crd/widgets.example.com").in_namespace("shop").namespace, None, "cluster-scoped");
        assert_eq!(read("secret/db").in_namespace("shop").namespace.as_deref(), Some("shop"));
        assert!("/web".parse::<ObjectRef>().is_err());
        assert!(".apps/web".parse::<ObjectRef>().is_err());
    }

    #[test]
    fn the_group_is_shown_only_where_it_tells_kinds_apart() {
        let builtin = ObjectRef::in_group("extensions", "Deployment", Some("shop".into()), "web");
        assert_eq!(builtin.group, "apps", "legacy groups are read as the kind's own");
        assert_eq!(builtin.to_string(), "deployment/web");
        assert_eq!(serde_json::to_value(&builtin).unwrap(), serde_json::json!({"kind": "Deployment", "namespace": "shop", "name": "web"}));
        let custom = ObjectRef::in_group("example.com", "Deployment", Some("shop".into()), "web");
        assert_eq!(custom.to_string(), "deployment.example.com/web");
        assert_eq!(serde_json::to_value(&custom).unwrap()["group"], "example.com");
    }
}
