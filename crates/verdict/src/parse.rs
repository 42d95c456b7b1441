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

/// Reads every object in `text`: one JSON or YAML object, several YAML documents, or `kind: List`
/// (as `kubectl get a,b -o json` prints) whose items are returned in place of the List.
///
/// Every object must be a mapping with a string `kind`; empty documents are skipped.
pub fn parse_documents(text: &str, source: &str) -> Result<Vec<Value>, ParseError> {
    let mut objects = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let number = index + 1;
        let error = |field: Option<String>, problem: String| ParseError {
            source_name: source.to_string(),
            document: number,
            field,
            problem,
        };
        let value = Value::deserialize(document).map_err(|e| error(None, e.to_string()))?;
        match value {
            Value::Null => continue,
            Value::Object(_) => {}
            other => return Err(error(None, format!("expected an object, found {}", json_type(&other)))),
        }
        if value.get("kind").and_then(Value::as_str).is_some_and(|kind| kind.ends_with("List"))
            && value.get("items").is_some()
        {
            let Some(items) = value.get("items").and_then(Value::as_array) else {
                return Err(error(Some("items".into()), "expected a list".into()));
            };
            for (item_index, item) in items.iter().enumerate() {
                check_kind(item).map_err(|(field, problem)| {
                    error(Some(format!("items[{item_index}]{field}")), problem)
                })?;
            }
            let Value::Object(mut list) = value else { unreachable!("checked above") };
            if let Some(Value::Array(items)) = list.remove("items") {
                objects.extend(items);
            }
        } else {
            check_kind(&value).map_err(|(field, problem)| error(Some(field.trim_start_matches('.').to_string()), problem))?;
            objects.push(value);
        }
    }
    Ok(objects)
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
