//! Reading manifests: JSON, multi-document YAML, and `kind: List` with its items flattened.

use serde::Deserialize;
use serde_json::Value;

/// Why a manifest text could not be read; names the source, the document and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: document {document}{}: {problem}", field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
pub struct ParseError {
    /// The file name, or `-` for standard input.
    pub source_name: String,
    /// 1-based index of the document in the text (items of a List count as their List's).
    pub document: usize,
    /// The field at fault, as a path (`items[3].kind`), when one is.
    pub field: Option<String>,
    pub problem: String,
}

/// Where an object was read from, for error messages: `web.yaml: document 2, items[3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file name, or `-` for standard input.
    pub source: String,
    /// 1-based index of the document in the text.
    pub document: usize,
    /// The index in the document's `items` when the document is a List.
    pub item: Option<usize>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: document {}", self.source, self.document)?;
        match self.item {
            Some(item) => write!(f, ", items[{item}]"),
            None => Ok(()),
        }
    }
}

/// One object read from a manifest, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub origin: Origin,
    pub object: Value,
}

impl Manifest {
    /// `web.yaml: deployment/web`, or `web.yaml: document 2 (deployment)` while the object has
    /// no name: how messages about an object read from a file start.
    pub fn describe(&self) -> String {
        let kind = self.object.get("kind").and_then(Value::as_str).unwrap_or("object").to_ascii_lowercase();
        match self.object.pointer("/metadata/name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => format!("{}: {kind}/{name}", self.origin.source),
            _ => format!("{} ({kind})", self.origin),
        }
    }
}

/// Reads every object in `text`: one JSON or YAML object, several YAML documents, or `kind: List`
/// (as `kubectl get a,b -o json` prints) whose items are returned in place of the List.
///
/// Every object must be a mapping with a string `kind`; empty documents are skipped.
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<Value>, ParseError> {
    Ok(parse_manifests(text, source)?.into_iter().map(|manifest| manifest.object).collect())
}

/// Like [`parse_documents`], keeping each object's [`Origin`] so that later errors (from
/// [`crate::Snapshot::upsert`]) can name the file and document too.
pub fn parse_manifests(text: &str, source: &str) -> Result<Vec<Manifest>, ParseError> {
    let mut manifests = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let number = index + 1;
        let error = |field: Option<String>, problem: String| ParseError {
            source_name: source.to_string(),
            document: number,
            field,
            problem,
        };
        let origin = |item| Origin { source: source.to_string(), document: number, item };
        let value = Value::deserialize(document).map_err(|e| error(None, e.to_string()))?;
        let mut map = match value {
            Value::Null => continue,
            Value::Object(map) => map,
            other => return Err(error(None, format!("expected an object, found {}", json_type(&other)))),
        };
        let is_list = map.get("kind").and_then(Value::as_str).is_some_and(|kind| kind.ends_with("List"));
        match map.remove("items") {
            Some(items) if is_list => {
                let Value::Array(items) = items else {
                    return Err(error(Some("items".into()), format!("expected a list, found {}", json_type(&items))));
                };
                for (item_index, item) in items.into_iter().enumerate() {
                    check_kind(&item).map_err(|(field, problem)| error(Some(format!("items[{item_index}]{field}")), problem))?;
                    manifests.push(Manifest { origin: origin(Some(item_index)), object: item });
                }
            }
            items => {
                if let Some(items) = items {
                    map.insert("items".into(), items);
                }
                let object = Value::Object(map);
                check_kind(&object).map_err(|(field, problem)| error(Some(field.trim_start_matches('.').to_string()), problem))?;
                manifests.push(Manifest { origin: origin(None), object });
            }
        }
    }
    Ok(manifests)
}

/// An object must be a mapping with a non-empty string `kind`; returns the field suffix at fault.
fn check_kind(object: &Value) -> Result<(), (String, String)> {
    let Some(map) = object.as_object() else {
        return Err((String::new(), format!("expected an object, found {}", json_type(object))));
    };
    match map.get("kind") {
        None => Err((".kind".into(), "missing: every object needs a kind".into())),
        Some(Value::String(kind)) if !kind.is_empty() => Ok(()),
        Some(other) => Err((".kind".into(), format!("expected a non-empty string, found {}", json_type(other)))),
    }
}

/// The JSON name of a value's type, for error messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
