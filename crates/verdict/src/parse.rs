//! Reading manifests: JSON, multi-document YAML, and `kind: List` with its items flattened.
//!
//! What is applied must be what the file says, so the YAML is read stricter than serde's
//! defaults: a key given twice in one mapping is an error (not last-wins), merge keys
//! (`<<: *defaults`) are honoured as YAML 1.1 defines them (keys given in the mapping win; among
//! merged mappings, the earlier wins), and `.nan`/`.inf`, which JSON cannot hold, are errors
//! rather than nulls. Every error names the source, the document, the field and the line.
//!
//! A text whose first non-blank character is `{` is read as a stream of JSON objects, as kubectl's
//! YAML-or-JSON decoder does: JSON strings may hold any character but `"`, `\` and C0 controls
//! raw, while YAML refuses raw C1 controls, so a `kubectl get -o json` dump of objects whose
//! messages carry hostile text must not go through the YAML parser. Keys given twice are refused
//! there too, and `<<` is an ordinary key. A text that is not a JSON stream after all (`{kind:
//! Pod}`, or a JSON object then `---` and YAML) is read as YAML, of which JSON is a subset.
//!
//! Limits, checked before parsing so hostile input costs little time and memory:
//! [`MAX_INPUT_BYTES`] per text and [`MAX_FLOW_NESTING`] unclosed flow brackets.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The largest manifest text read, in bytes. The API server takes at most 3 MiB per request
/// (etcd holds 1.5 MiB per object), so this holds ten of the largest objects, or a `kubectl get
/// -o json` dump of thousands of pods, while bounding the parser's memory (`check` on a 31 MB
/// JSON List of 23,000 ConfigMaps peaked at 420 MB).
pub const MAX_INPUT_BYTES: usize = 32 << 20;

/// The most flow brackets (`[`, `{`) a text may leave open at once. The deserializer refuses
/// nesting beyond 128 levels, but only after the YAML parser has read the whole document, which
/// takes superlinear time in the nesting; brackets inside strings count too, so the limit is
/// far above what any manifest reaches.
pub const MAX_FLOW_NESTING: usize = 1000;

/// Why a manifest text could not be read; names the source, the document and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The file name, or `-` for standard input.
    pub source_name: String,
    /// 1-based index of the document in the text (items of a List count as their List's); 0 when
    /// the whole text is at fault (beyond a limit).
    pub document: usize,
    /// The field at fault, as a path (`items[3].kind`), when one is.
    pub field: Option<String>,
    pub problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source_name)?;
        if self.document > 0 {
            write!(f, ": document {}", self.document)?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.problem)
    }
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
    check_limits(text).map_err(|problem| ParseError { source_name: source.to_string(), document: 0, field: None, problem })?;
    let mut manifests = Vec::new();
    if text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']).starts_with('{')
        && let Some(manifests) = parse_json_stream(text.trim_start_matches('\u{feff}'), source)
    {
        return Ok(manifests);
    }
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let number = index + 1;
        let value = Node { yaml: true }.deserialize(document).map_err(|e| ParseError {
            source_name: source.to_string(),
            document: number,
            field: None,
            problem: e.to_string(),
        })?;
        collect(value, source, number, &mut manifests)?;
    }
    Ok(manifests)
}

/// A stream of JSON objects, or `None` when the text is not one (`{kind: Pod}`, a YAML flow
/// mapping; a JSON object followed by `---` and YAML): it is then read as YAML, whose errors are
/// the ones reported.
fn parse_json_stream(text: &str, source: &str) -> Option<Vec<Manifest>> {
    let mut manifests = Vec::new();
    let mut json = serde_json::Deserializer::from_str(text);
    let mut number = 0;
    while json.end().is_err() {
        number += 1;
        let value = (Node { yaml: false }).deserialize(&mut json).ok()?;
        collect(value, source, number, &mut manifests).ok()?;
    }
    Some(manifests)
}

/// Adds document `number`'s objects to `manifests`: the object itself, or a List's items.
fn collect(value: Value, source: &str, number: usize, manifests: &mut Vec<Manifest>) -> Result<(), ParseError> {
    let error = |field: Option<String>, problem: String| ParseError { source_name: source.to_string(), document: number, field, problem };
    let origin = |item| Origin { source: source.to_string(), document: number, item };
    let mut map = match value {
        Value::Null => return Ok(()),
        Value::Object(map) => map,
        other => {
            return Err(error(None, format!("expected an object, found {}", json_type(&other))));
        }
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
    Ok(())
}

/// Reads the YAML (or JSON) documents of a text that is not made of Kubernetes objects (a rules
/// file), as strictly as manifests: the same limits, duplicate keys, merge keys and `.nan` rules.
/// Empty documents are skipped.
pub(crate) fn parse_yaml_documents(text: &str, source: &str) -> Result<Vec<Value>, ParseError> {
    check_limits(text).map_err(|problem| ParseError { source_name: source.to_string(), document: 0, field: None, problem })?;
    let mut documents = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Node { yaml: true }.deserialize(document).map_err(|e| ParseError {
            source_name: source.to_string(),
            document: index + 1,
            field: None,
            problem: e.to_string(),
        })?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Refuses texts beyond [`MAX_INPUT_BYTES`] or [`MAX_FLOW_NESTING`] before the parser sees them.
fn check_limits(text: &str) -> Result<(), String> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(format!("larger than {} MiB, the most a manifest may have", MAX_INPUT_BYTES >> 20));
    }
    let (mut open, mut line) = (0usize, 1usize);
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => open += 1,
            b']' | b'}' => open = open.saturating_sub(1),
            b'\n' => line += 1,
            _ => {}
        }
        if open > MAX_FLOW_NESTING {
            return Err(format!("line {line}: more than {MAX_FLOW_NESTING} brackets ([ or {{) open at once, the most a manifest may have"));
        }
    }
    Ok(())
}

/// One YAML node read as the JSON value the API server would get, strictly (see the module docs).
///
/// serde_norway's own `Value` refuses duplicate keys and has `apply_merge`, but going through it
/// builds a second tree per document and leaves merge and NaN errors without a line; reading
/// straight into JSON does all three in one pass, each error at its node's line.
struct Node {
    /// YAML's merge key `<<` is honoured; in JSON it is an ordinary key.
    yaml: bool,
}

impl<'de> DeserializeSeed<'de> for Node {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(NodeVisitor { yaml: self.yaml })
    }
}

struct NodeVisitor {
    yaml: bool,
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value JSON can hold")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        self.visit_f64(value as f64)
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        self.visit_f64(value as f64)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("{value} (.nan or .inf) is not a number JSON can hold; quote it if it is meant as a string")))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Node { yaml: self.yaml }.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Node { yaml: self.yaml })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut explicit = Map::new();
        let mut merged: Vec<Map<String, Value>> = Vec::new();
        while let Some(key) = map.next_key_seed(Key { seen: &explicit })? {
            if self.yaml && key == MERGE_KEY {
                match map.next_value_seed(Node { yaml: self.yaml })? {
                    Value::Object(mapping) => merged.push(mapping),
                    Value::Array(mappings) => {
                        for mapping in mappings {
                            let Value::Object(mapping) = mapping else {
                                return Err(de::Error::custom("a merge key (<<) takes a mapping or a list of mappings"));
                            };
                            merged.push(mapping);
                        }
                    }
                    _ => {
                        return Err(de::Error::custom("a merge key (<<) takes a mapping or a list of mappings"));
                    }
                }
            } else {
                let value = map.next_value_seed(Node { yaml: self.yaml })?;
                explicit.insert(key, value);
            }
        }
        for mapping in merged {
            for (key, value) in mapping {
                explicit.entry(key).or_insert(value);
            }
        }
        Ok(Value::Object(explicit))
    }
}

/// YAML's merge key: `<<: *anchor` merges the anchored mapping's keys into this one.
const MERGE_KEY: &str = "<<";

/// A mapping key as a JSON key, refused when the mapping already has it: read while the parser
/// is at the key, so the error names the key's line. Scalars other than strings become their
/// text, as kubectl converts YAML to JSON.
struct Key<'a> {
    seen: &'a Map<String, Value>,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Key<'_> {
    fn unique<E: de::Error>(&self, key: String) -> Result<String, E> {
        if self.seen.contains_key(&key) {
            return Err(E::custom(format!("duplicate key {key:?}: a mapping may give each key once")));
        }
        Ok(key)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean as a mapping key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        self.unique(key.to_string())
    }

    fn visit_bool<E: de::Error>(self, key: bool) -> Result<String, E> {
        self.unique(key.to_string())
    }

    fn visit_i64<E: de::Error>(self, key: i64) -> Result<String, E> {
        self.unique(key.to_string())
    }

    fn visit_u64<E: de::Error>(self, key: u64) -> Result<String, E> {
        self.unique(key.to_string())
    }

    fn visit_f64<E: de::Error>(self, key: f64) -> Result<String, E> {
        self.unique(key.to_string())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(text: &str) -> Result<Vec<Value>, String> {
        parse_documents(text, "app.yaml").map_err(|e| e.to_string())
    }

    #[test]
    fn json_is_read_as_json_so_raw_c1_controls_in_strings_are_kept() {
        // U+009B (CSI) raw in a string: valid JSON, refused by YAML; a `kubectl get -o json` dump
        // of a pod whose message carries it must still be read (the renderers sanitise it).
        let text = "\u{feff} {\"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\\u0007\", \"annotations\": {\"m\": \"\u{9b}31m\"}}}\n{\"kind\": \"Secret\", \"<<\": 1}";
        let objects = parsed(text).unwrap();
        assert_eq!(objects[0]["metadata"]["annotations"]["m"], json!("\u{9b}31m"));
        assert_eq!(objects[0]["metadata"]["name"], json!("a\u{7}"));
        assert_eq!(objects[1], json!({"kind": "Secret", "<<": 1}), "<< is an ordinary key in JSON");
    }

    #[test]
    fn a_json_key_given_twice_is_an_error_naming_the_document_and_line() {
        let error = parsed("{\"kind\": \"Pod\",\n \"kind\": \"Job\"}").unwrap_err();
        assert!(error.contains("app.yaml: document 1"), "{error}");
        assert!(error.contains("duplicate key \"kind\"") && error.contains("line 2"), "{error}");
    }

    #[test]
    fn a_json_object_then_yaml_documents_is_read_as_yaml() {
        let objects = parsed("{\"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n---\nkind: Pod\nmetadata: {name: b}\n").unwrap();
        assert_eq!(objects.iter().map(|o| o["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["ConfigMap", "Pod"]);
    }

    #[test]
    fn a_key_given_twice_is_an_error_naming_file_document_field_and_line() {
        let text = "kind: ConfigMap\n---\nkind: Deployment\nspec:\n  replicas: 1\n  paused: false\n  replicas: 5\n";
        let error = parsed(text).unwrap_err();
        assert!(error.starts_with("app.yaml: document 2: spec: duplicate key \"replicas\""), "{error}");
        assert!(error.contains("line 7 column 3"), "{error}");
        // In flow style and at the top level too; equal keys in different mappings are fine.
        assert!(parsed("{kind: A, kind: B}").unwrap_err().contains("duplicate key \"kind\""));
        assert!(parsed("kind: A\na: {x: 1}\nb: {x: 1}\n").is_ok());
    }

    #[test]
    fn merge_keys_are_honoured_and_given_keys_win() {
        let text = "kind: Pod\nbase: &base {image: app:1, pull: Always}\nextra: &extra {pull: Never, port: 80}\n\
                    one: {<<: *base, image: app:2}\nboth:\n  <<: [*base, *extra]\n  name: x\n";
        let object = parsed(text).unwrap().remove(0);
        assert_eq!(object["one"], json!({"image": "app:2", "pull": "Always"}));
        // Among merged mappings the first wins.
        assert_eq!(object["both"], json!({"image": "app:1", "pull": "Always", "port": 80, "name": "x"}));
        assert!(parsed("kind: A\nx: {<<: 3}\n").unwrap_err().contains("a merge key (<<) takes a mapping"));
    }

    #[test]
    fn nan_and_infinity_are_errors_not_nulls() {
        for value in [".nan", ".inf", "-.Inf"] {
            let error = parsed(&format!("kind: A\nspec:\n  ratio: {value}\n")).unwrap_err();
            assert!(error.starts_with("app.yaml: document 1: spec.ratio: "), "{error}");
            assert!(error.contains("not a number JSON can hold") && error.contains("line 3"), "{error}");
        }
        // Quoted, it is a string; plain numbers stay numbers.
        assert_eq!(parsed("kind: A\nratio: \".nan\"\nx: 1.5\n").unwrap()[0], json!({"kind": "A", "ratio": ".nan", "x": 1.5}));
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let deep = format!("kind: A\nx: {}", "[".repeat(80_000));
        // The pre-parse check's error: the parser would have taken 32 s to get this far.
        let error = parsed(&deep).unwrap_err();
        assert_eq!(error, "app.yaml: line 2: more than 1000 brackets ([ or {) open at once, the most a manifest may have");
        // Nesting the deserializer accepts, and many brackets that close, are fine.
        let fine = format!("kind: A\nx: {}1{}\ny: [{}]\n", "[".repeat(100), "]".repeat(100), "[1], ".repeat(2000));
        assert!(parsed(&fine).is_ok(), "{fine}");
    }

    #[test]
    fn input_beyond_the_size_limit_is_refused_before_parsing() {
        let huge = format!("kind: A\ndata: \"{}\"\n", "x".repeat(MAX_INPUT_BYTES));
        assert_eq!(parsed(&huge).unwrap_err(), "app.yaml: larger than 32 MiB, the most a manifest may have");
    }
}
