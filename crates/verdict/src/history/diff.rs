//! What changed between two pod templates, field by field, in words a person reads: containers
//! matched by name, environment variables by name, probes as one line each, resources and
//! every other field by path — never the whole template.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

/// Where a change is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "in", content = "name", rename_all = "snake_case")]
pub enum Scope {
    /// The pod: its labels, annotations and spec outside the containers.
    Pod,
    /// One container (init containers too), by name.
    Container(String),
}

/// One field that differs; `None` on a side means absent there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub scope: Scope,
    /// `image`, `env LOG_LEVEL`, `resources.limits.memory`, `readinessProbe`, `label app`, `spec.serviceAccountName`.
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

const CONTAINER_LISTS: [&str; 2] = ["initContainers", "containers"];
const PROBES: [&str; 3] = ["startupProbe", "readinessProbe", "livenessProbe"];

/// The changes from template `old` to template `new`, pod-level first, then per container in the
/// order of `new` (removed containers last).
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    for (field, key) in [("label", "labels"), ("annotation", "annotations")] {
        keyed(&Scope::Pod, field, &old["metadata"][key], &new["metadata"][key], &mut changes);
    }
    let pod_spec = |template: &Value| {
        let mut spec = template["spec"].as_object().cloned().unwrap_or_default();
        for list in CONTAINER_LISTS {
            spec.remove(list);
        }
        Value::Object(spec)
    };
    leaves(&Scope::Pod, "spec", &pod_spec(old), &pod_spec(new), &mut changes);
    let old_containers = containers(old);
    let new_containers = containers(new);
    for (name, container) in &new_containers {
        let scope = Scope::Container(name.clone());
        match old_containers.iter().find(|(n, _)| n == name) {
            Some((_, before)) => container_changes(&scope, before, container, &mut changes),
            None => changes.push(Change { scope, field: "container".into(), from: None, to: Some(added_container(container)) }),
        }
    }
    for (name, container) in old_containers.iter().filter(|(n, _)| !new_containers.iter().any(|(m, _)| m == n)) {
        let scope = Scope::Container(name.clone());
        changes.push(Change { scope, field: "container".into(), from: Some(added_container(container)), to: None });
    }
    changes
}

fn containers(template: &Value) -> Vec<(String, &Value)> {
    CONTAINER_LISTS
        .iter()
        .flat_map(|list| template["spec"][*list].as_array().into_iter().flatten())
        .map(|c| (c["name"].as_str().unwrap_or_default().to_string(), c))
        .collect()
}

fn added_container(container: &Value) -> String {
    format!("image {}", container["image"].as_str().unwrap_or("(none)"))
}

fn container_changes(scope: &Scope, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let text = |value: &Value| (!value.is_null()).then(|| show(value));
    if old["image"] != new["image"] {
        changes.push(Change { scope: scope.clone(), field: "image".into(), from: text(&old["image"]), to: text(&new["image"]) });
    }
    let env = |container: &Value| {
        let mut by_name = Map::new();
        for variable in container["env"].as_array().into_iter().flatten() {
            let name = variable["name"].as_str().unwrap_or_default().to_string();
            let value = match (&variable["value"], &variable["valueFrom"]) {
                (Value::Null, Value::Null) => Value::String(String::new()),
                (Value::Null, from) => Value::String(value_from(from)),
                (value, _) => value.clone(),
            };
            by_name.insert(name, value);
        }
        Value::Object(by_name)
    };
    keyed(scope, "env", &env(old), &env(new), changes);
    for probe in PROBES {
        if old[probe] != new[probe] {
            let describe = |value: &Value| (!value.is_null()).then(|| describe_probe(value));
            changes.push(Change { scope: scope.clone(), field: probe.into(), from: describe(&old[probe]), to: describe(&new[probe]) });
        }
    }
    let rest = |container: &Value| {
        let mut rest = container.as_object().cloned().unwrap_or_default();
        for key in ["name", "image", "env"].iter().chain(PROBES.iter()) {
            rest.remove(*key);
        }
        Value::Object(rest)
    };
    leaves(scope, "", &rest(old), &rest(new), changes);
}

/// `configMapKeyRef settings/mode`, `secretKeyRef db/password`, `fieldRef metadata.name`.
fn value_from(from: &Value) -> String {
    let Some((source, reference)) = from.as_object().and_then(|o| o.iter().next()) else { return show(from) };
    let detail = match (reference["name"].as_str(), reference["key"].as_str(), reference["fieldPath"].as_str(), reference["resource"].as_str()) {
        (Some(name), Some(key), _, _) => format!("{name}/{key}"),
        (_, _, Some(path), _) => path.to_string(),
        (_, _, _, Some(resource)) => resource.to_string(),
        _ => show(reference),
    };
    format!("from {source} {detail}")
}

/// One line for a probe: `httpGet :8080/healthz, delay 5s, every 10s, timeout 1s, 3 failures`.
fn describe_probe(probe: &Value) -> String {
    let action = if let Some(get) = probe.get("httpGet") {
        format!("httpGet :{}{}", show(&get["port"]), get["path"].as_str().unwrap_or(""))
    } else if let Some(tcp) = probe.get("tcpSocket") {
        format!("tcpSocket :{}", show(&tcp["port"]))
    } else if let Some(exec) = probe.get("exec") {
        let command: Vec<String> = exec["command"].as_array().into_iter().flatten().map(show).collect();
        format!("exec {}", command.join(" "))
    } else if let Some(grpc) = probe.get("grpc") {
        format!("grpc :{}", show(&grpc["port"]))
    } else {
        "no action".to_string()
    };
    let mut parts = vec![action];
    for (key, label, unit) in [
        ("initialDelaySeconds", "delay", "s"),
        ("periodSeconds", "every", "s"),
        ("timeoutSeconds", "timeout", "s"),
        ("successThreshold", "successes", ""),
        ("failureThreshold", "failures", ""),
    ] {
        if let Some(value) = probe[key].as_i64() {
            parts.push(format!("{label} {value}{unit}"));
        }
    }
    parts.join(", ")
}

/// Changes of a map keyed by name (labels, annotations, env): one change per key.
fn keyed(scope: &Scope, field: &str, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        if old.get(key) != new.get(key) {
            changes.push(Change { scope: scope.clone(), field: format!("{field} {key}"), from: old.get(key).map(show), to: new.get(key).map(show) });
        }
    }
}

/// Changes of nested objects down to the leaves, each named by its dotted path under `path`;
/// lists that differ are shown whole (compact), as a list's items rarely have names here.
fn leaves(scope: &Scope, path: &str, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    if old == new {
        return;
    }
    let empty = Map::new();
    match (as_map(old, &empty), as_map(new, &empty)) {
        (Some(a), Some(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                leaves(scope, &child, a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null), changes);
            }
        }
        _ => {
            let text = |value: &Value| (!value.is_null()).then(|| show(value));
            changes.push(Change { scope: scope.clone(), field: path.to_string(), from: text(old), to: text(new) });
        }
    }
}

/// An object's fields; absent (null) counts as no fields, so an added object shows its leaves.
fn as_map<'a>(value: &'a Value, empty: &'a Map<String, Value>) -> Option<&'a Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        Value::Null => Some(empty),
        _ => None,
    }
}

/// A value as text: strings bare, anything else as compact JSON.
fn show(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
