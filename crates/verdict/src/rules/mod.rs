//! Readiness rules as data, for custom resources: CEL expressions over the object (`self`), in the
//! shape of Flux's `healthCheckExprs`, that say when an object of a group and kind is ready, has
//! failed, is paused or still progressing, and what to say about it.
//!
//! Rules come from three places, later ones winning for the same group and kind: the built-ins
//! (one YAML file per operator, compiled into the binary), `--rules` files, and the object's own
//! annotations (`rollwatch.dev/ready-when`, `rollwatch.dev/failed-when`). Every expression is
//! compiled when it is loaded, so a rule that does not compile is an error naming its file or
//! object, its field and the position in the expression, before anything is judged.
//!
//! ```
//! use rollwatch_verdict::{parse_documents, rules::RuleSet, ObjectRef, Policy, Snapshot, State};
//!
//! let rules = RuleSet::builtin().with_file(r#"
//! rules:
//! - group: example.com
//!   kind: Widget
//!   ready: "has(self.status) && self.status.phase == 'Running'"
//!   failed: "has(self.status) && self.status.phase == 'Broken'"
//!   message: "self.status.detail"
//! "#, "widgets.yaml").unwrap();
//! let policy = Policy { rules: rules.into(), ..Policy::default() };
//! let mut snapshot = Snapshot::new();
//! for object in parse_documents(r#"
//! apiVersion: example.com/v1
//! kind: Widget
//! metadata: {name: w, namespace: shop}
//! status: {phase: Broken, detail: "no gears left"}
//! "#, "w.yaml").unwrap() {
//!     snapshot.upsert(object).unwrap();
//! }
//! let w = ObjectRef::new("Widget", Some("shop".into()), "w");
//! let verdict = snapshot.verdict(&w, &policy, jiff::Timestamp::UNIX_EPOCH);
//! assert_eq!(verdict.state, State::Failed);
//! assert_eq!(verdict.message, "widget.example.com/w failed: no gears left");
//! ```

mod eval;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use crate::parse::parse_yaml_documents;

pub(crate) use eval::{annotation_rule, view};

/// The annotation whose CEL expression, when true, makes the object ready.
pub const READY_WHEN_ANNOTATION: &str = "rollwatch.dev/ready-when";
/// The annotation whose CEL expression, when true, makes the object failed.
pub const FAILED_WHEN_ANNOTATION: &str = "rollwatch.dev/failed-when";
/// The annotation that, set to `"true"`, tells rollwatch not to wait for the object at all.
pub const SKIP_ANNOTATION: &str = "rollwatch.dev/skip";

/// The built-in rules, one file per operator: (file name, text).
const BUILTIN_FILES: &[(&str, &str)] = &[
    ("argo-rollouts.yaml", include_str!("builtin/argo-rollouts.yaml")),
    ("argo-cd.yaml", include_str!("builtin/argo-cd.yaml")),
    ("cert-manager.yaml", include_str!("builtin/cert-manager.yaml")),
    ("flux.yaml", include_str!("builtin/flux.yaml")),
    ("crossplane.yaml", include_str!("builtin/crossplane.yaml")),
    ("keda.yaml", include_str!("builtin/keda.yaml")),
    ("knative.yaml", include_str!("builtin/knative.yaml")),
    ("cloudnative-pg.yaml", include_str!("builtin/cloudnative-pg.yaml")),
    ("strimzi.yaml", include_str!("builtin/strimzi.yaml")),
    ("prometheus-operator.yaml", include_str!("builtin/prometheus-operator.yaml")),
];

/// One compiled CEL expression and the text it was compiled from.
#[derive(Clone)]
pub(crate) struct Expression {
    text: String,
    program: Arc<cel::Program>,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Expression {
    /// Compiles `text`; the error says where in the expression it went wrong.
    fn compile(text: &str) -> Result<Self, String> {
        match environment().compile(text) {
            Ok(program) => Ok(Self { text: text.to_string(), program: Arc::new(program) }),
            Err(errors) => Err(errors
                .errors
                .iter()
                .map(|error| format!("line {}, column {}: {}", error.pos.0.max(1), error.pos.1 + 1, error.msg))
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// CEL's standard library, shared by every rule (building it is not free).
fn environment() -> &'static Arc<cel::Env> {
    static ENVIRONMENT: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| Arc::new(cel::Env::stdlib()))
}

/// Which objects a rule is for: one group and kind, or (`*`/`*`) any custom resource its `match`
/// expression is true for — for operators whose resources live in groups of the user's choosing,
/// such as Crossplane's claims.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Kind { group: String, kind: String },
    Matching,
}

/// A readiness rule for one group and kind (or for the objects its `match` selects).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub target: Target,
    /// Where it was read from: `built-in flux.yaml`, `rules.yaml`, an object's annotations.
    pub origin: String,
    pub(crate) matches: Option<Expression>,
    /// `None` (annotations only): the kind's own viewer decides readiness.
    pub(crate) ready: Option<Expression>,
    pub(crate) failed: Option<Expression>,
    pub(crate) progressing: Option<Expression>,
    pub(crate) paused: Option<Expression>,
    pub(crate) message: Option<Expression>,
    pub(crate) reason: Option<Expression>,
}

impl Rule {
    /// `group/Kind` (`*/*` for a rule chosen by its `match` expression).
    pub fn name(&self) -> String {
        match &self.target {
            Target::Kind { group, kind } => format!("{group}/{kind}"),
            Target::Matching => "*/*".to_string(),
        }
    }

    /// The expressions, by field name, for listing.
    pub fn expressions(&self) -> Vec<(&'static str, &str)> {
        [
            ("match", &self.matches),
            ("ready", &self.ready),
            ("failed", &self.failed),
            ("progressing", &self.progressing),
            ("paused", &self.paused),
            ("message", &self.message),
            ("reason", &self.reason),
        ]
        .into_iter()
        .filter_map(|(field, expression)| expression.as_ref().map(|e| (field, e.text())))
        .collect()
    }
}

/// A rule that could not be loaded: names its file (or object), the rule, the field and what is
/// wrong, with the position in the expression for one that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {location}: {problem}")]
pub struct RuleError {
    /// The file name, or the object whose annotations hold the rule.
    pub source_name: String,
    /// `rules[2] (argoproj.io/Rollout), field ready`, `annotation rollwatch.dev/ready-when`.
    pub location: String,
    pub problem: String,
}

/// A rule as written in a file, before its expressions are compiled.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    group: String,
    kind: String,
    #[serde(rename = "match")]
    matches: Option<String>,
    ready: String,
    failed: String,
    progressing: Option<String>,
    paused: Option<String>,
    message: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rules: Vec<RuleText>,
}

/// The rules in force: by group and kind, plus the `match` rules tried in order for other custom
/// resources.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleSet {
    by_kind: HashMap<(String, String), Arc<Rule>>,
    matching: Vec<Arc<Rule>>,
}

impl RuleSet {
    /// The built-in rules, compiled once.
    pub fn builtin() -> Arc<RuleSet> {
        static BUILTIN: OnceLock<Arc<RuleSet>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut rules = RuleSet::default();
                for (file, text) in BUILTIN_FILES {
                    for rule in parse_rules(text, &format!("built-in {file}")).expect("the built-in rules compile (a unit test checks)") {
                        rules.insert(rule);
                    }
                }
                Arc::new(rules)
            })
            .clone()
    }

    /// These rules with those of a rules file added; a rule for a group and kind already here
    /// replaces it.
    pub fn with_file(&self, text: &str, source_name: &str) -> Result<RuleSet, RuleError> {
        let mut rules = self.clone();
        for rule in parse_rules(text, source_name)? {
            rules.insert(rule);
        }
        Ok(rules)
    }

    /// These rules with `more` added; `more`'s rule for a group and kind replaces the one here.
    pub fn with_rules(&self, more: &RuleSet) -> RuleSet {
        let mut rules = self.clone();
        for rule in more.by_kind.values().chain(&more.matching) {
            rules.insert(rule.as_ref().clone());
        }
        rules
    }

    /// The rule an object (as given, with apiVersion and kind) is judged by, if any: its kind's
    /// or a `match` rule's (the object's own annotations come over it).
    pub fn rule_for(&self, object: &Value) -> Option<&Rule> {
        let kind = object.get("kind")?.as_str()?;
        let group = object.get("apiVersion").and_then(Value::as_str).and_then(|v| v.rsplit_once('/')).map_or("", |(group, _)| group);
        self.find(group, kind, &eval::to_cel(object)).map(Arc::as_ref)
    }

    fn insert(&mut self, rule: Rule) {
        match &rule.target {
            Target::Kind { group, kind } => {
                self.by_kind.insert((group.clone(), kind.clone()), Arc::new(rule));
            }
            Target::Matching => self.matching.push(Arc::new(rule)),
        }
    }

    /// The rule for an object of `group` and `kind`: its own, else the first `match` rule true
    /// for it (a `match` that fails to evaluate does not select).
    pub(crate) fn find(&self, group: &str, kind: &str, object: &cel::Value) -> Option<&Arc<Rule>> {
        if let Some(rule) = self.by_kind.get(&(group.to_string(), kind.to_string())) {
            return Some(rule);
        }
        self.matching.iter().find(|rule| rule.matches.as_ref().is_some_and(|matches| eval::is_true(matches, object)))
    }

    /// Every rule, sorted by group and kind (the `match` rules last, in their order).
    pub fn list(&self) -> Vec<&Rule> {
        let mut by_kind: Vec<&Rule> = self.by_kind.values().map(Arc::as_ref).collect();
        by_kind.sort_by_key(|rule| rule.name());
        by_kind.into_iter().chain(self.matching.iter().map(Arc::as_ref)).collect()
    }
}

/// Reads and compiles the rules of one file.
fn parse_rules(text: &str, source_name: &str) -> Result<Vec<Rule>, RuleError> {
    let error = |location: String, problem: String| RuleError { source_name: source_name.to_string(), location, problem };
    let documents = parse_yaml_documents(text, source_name).map_err(|e| error(format!("document {}", e.document), e.problem))?;
    let mut rules = Vec::new();
    for (number, document) in documents.into_iter().enumerate() {
        let file: RulesFile =
            serde_path_to_error::deserialize(document).map_err(|e| error(format!("document {}, field {}", number + 1, e.path()), e.inner().to_string()))?;
        for (index, text) in file.rules.into_iter().enumerate() {
            let name = format!("{}/{}", text.group, text.kind);
            let at = |field: &str| format!("rules[{index}] ({name}), field {field}");
            let target = match (text.group.as_str(), text.kind.as_str()) {
                ("*", "*") if text.matches.is_some() => Target::Matching,
                ("*", _) | (_, "*") => return Err(error(at("group"), "a rule for any group or kind (`*`) needs `match`, and both must be `*`".into())),
                (_, "") => return Err(error(at("kind"), "must not be empty".into())),
                (group, _) if !group.contains('.') => {
                    let problem = "rules are for custom resources, whose group has a dot (`example.com`); Kubernetes' own kinds have their own verdicts";
                    return Err(error(at("group"), problem.into()));
                }
                (group, kind) => Target::Kind { group: group.to_string(), kind: kind.to_string() },
            };
            let compile = |field: &str, text: &str| Expression::compile(text).map_err(|problem| error(at(field), format!("does not compile: {problem}")));
            let optional = |field: &str, text: &Option<String>| text.as_deref().map(|text| compile(field, text)).transpose();
            rules.push(Rule {
                target,
                origin: source_name.to_string(),
                matches: optional("match", &text.matches)?,
                ready: Some(compile("ready", &text.ready)?),
                failed: Some(compile("failed", &text.failed)?),
                progressing: optional("progressing", &text.progressing)?,
                paused: optional("paused", &text.paused)?,
                message: optional("message", &text.message)?,
                reason: optional("reason", &text.reason)?,
            });
        }
    }
    Ok(rules)
}

/// The annotations' rule of a custom resource, as the object was given: checks that its
/// `rollwatch.dev/ready-when` and `rollwatch.dev/failed-when` compile (`None` without them), so
/// that a manifest's bad rule stops `apply` or `check` before anything else happens.
pub fn check_annotations(object: &Value) -> Result<Option<Rule>, RuleError> {
    annotation_rule(object)
}

#[cfg(test)]
mod tests;
