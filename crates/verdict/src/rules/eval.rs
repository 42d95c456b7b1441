//! Judging one custom resource by its rule: the hook the kind viewers call before the generic
//! conditions viewer, and the evaluation of the CEL expressions over the object.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::Value;

use super::{Expression, FAILED_WHEN_ANNOTATION, READY_WHEN_ANNOTATION, Rule, RuleError, Target, environment};
use crate::kinds::Context;
use crate::snapshot::Generic;
use crate::{ObjectRef, Reason, ReasonCode, State, Verdict};

/// The verdict for a custom resource: "waiting for the controller" while its CRD declares a status
/// subresource and no status is written yet; else by its rule (the kind's, with the object's
/// annotations over it). `None` leaves the object to the generic conditions viewer: no rule, or
/// an annotations-only rule without `ready-when` whose `failed-when` is false.
pub(crate) fn view(ctx: &Context, generic: &Generic) -> Option<Verdict> {
    let object = ctx.object;
    if ctx.snapshot.declares_status_subresource(&object.group, &object.kind) && status_is_empty(&generic.object) {
        let reason = Reason::new(ReasonCode::AwaitingStatus, object.clone(), "waiting for the controller to report status");
        return Some(Verdict::new(State::Progressing, format!("Waiting for the controller to report the status of {object}...")).with_reasons(vec![reason]));
    }
    let own = match &generic.annotation_rule {
        Some(Err(error)) => {
            let reason = Reason::new(ReasonCode::InvalidRule, object.clone(), error.to_string());
            return Some(Verdict::new(State::Failed, format!("{object} has a rule that does not compile: {error}")).with_reasons(vec![reason]));
        }
        Some(Ok(rule)) => Some(rule.as_ref()),
        None => None,
    };
    let value = to_cel(&generic.object);
    let rule = match (own, ctx.policy.rules.find(&object.group, &object.kind, &value)) {
        (None, None) => return None,
        (Some(own), None) => own.clone(),
        (None, Some(kind)) => kind.as_ref().clone(),
        (Some(own), Some(kind)) => Rule {
            origin: format!("{} over {}", own.origin, kind.origin),
            ready: own.ready.clone().or_else(|| kind.ready.clone()),
            failed: own.failed.clone().or_else(|| kind.failed.clone()),
            ..kind.as_ref().clone()
        },
    };
    if generic.status.as_ref().is_some_and(|status| status.is_behind(generic.metadata.generation)) {
        return Some(Verdict::new(State::Progressing, format!("Waiting for {object} spec update to be observed...")));
    }
    evaluate(&rule, object, &value)
}

/// Applies `rule` to `value`: failed, then paused, then progressing, then ready; neither ready nor
/// anything else is progressing. A runtime error gives an Unknown verdict whose reason is it.
fn evaluate(rule: &Rule, object: &ObjectRef, value: &cel::Value) -> Option<Verdict> {
    let message = rule.message.as_ref().and_then(|message| text(message, value)).filter(|m| !m.is_empty());
    let error_verdict = |field: &str, error: String| {
        let problem = format!("rule {} ({}), field {field}: {error}", rule.name(), rule.origin);
        let reason = Reason::new(ReasonCode::RuleError, object.clone(), problem.clone());
        Verdict::new(State::Unknown, format!("{object}: cannot evaluate its rule: {problem}")).with_reasons(vec![reason])
    };
    // A failed evaluation: the field and the error.
    type Failure = (&'static str, String);
    let check = |field: &'static str, expression: &Option<Expression>| -> Result<bool, Failure> {
        match expression {
            Some(expression) => boolean(expression, value).map_err(|error| (field, error)),
            None => Ok(false),
        }
    };
    let said = |default: String| message.clone().unwrap_or(default);
    let outcome = (|| -> Result<Option<Verdict>, Failure> {
        if check("failed", &rule.failed)? {
            let code =
                rule.reason.as_ref().and_then(|reason| text(reason, value)).filter(|r| !r.is_empty()).map_or(ReasonCode::RuleFailed, |r| ReasonCode::parse(&r));
            let detail = said(format!("the failed expression of rule {} is true", rule.name()));
            return Ok(Some(Verdict::new(State::Failed, format!("{object} failed: {detail}")).with_reasons(vec![Reason::new(code, object.clone(), detail)])));
        }
        if check("paused", &rule.paused)? {
            return Ok(Some(Verdict::new(State::Paused, format!("{object} is paused: {}", said("nothing changes until it is resumed".into())))));
        }
        if check("progressing", &rule.progressing)? {
            return Ok(Some(Verdict::new(State::Progressing, format!("Waiting for {object}: {}", said("progressing".into())))));
        }
        if rule.ready.is_none() {
            return Ok(None);
        }
        if check("ready", &rule.ready)? {
            return Ok(Some(Verdict::new(
                State::Ready,
                match &message {
                    Some(message) => format!("{object} is ready: {message}"),
                    None => format!("{object} is ready"),
                },
            )));
        }
        Ok(Some(Verdict::new(State::Progressing, format!("Waiting for {object} to be ready: {}", said("not ready yet".into())))))
    })();
    outcome.unwrap_or_else(|(field, error)| Some(error_verdict(field, error)))
}

/// Whether `expression` is true for `value`, where an error counts as false (for `match`).
pub(super) fn is_true(expression: &Expression, value: &cel::Value) -> bool {
    boolean(expression, value).unwrap_or(false)
}

/// The expression's result, which must be a bool.
fn boolean(expression: &Expression, value: &cel::Value) -> Result<bool, String> {
    match execute(expression, value)? {
        cel::Value::Bool(result) => Ok(result),
        other => Err(format!("expected a bool, got {}", other.type_of())),
    }
}

/// The expression's result when it is a string (messages and reasons are best effort: an error
/// or another type leaves the default).
fn text(expression: &Expression, value: &cel::Value) -> Option<String> {
    match execute(expression, value) {
        Ok(cel::Value::String(text)) => Some(text.to_string()),
        _ => None,
    }
}

/// Runs `expression` with `self` bound to the object. The interpreter is third-party code run on
/// cluster data: a panic in it is turned into an error rather than ending the run.
fn execute(expression: &Expression, value: &cel::Value) -> Result<cel::Value, String> {
    let run = || {
        let mut context = cel::Context::with_env(environment().clone());
        context.add_variable_from_value("self", value.clone());
        expression.program.execute(&context).map_err(|error| error.to_string())
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err("the CEL interpreter failed on this object".to_string()))
}

/// JSON as CEL values: integers as `int` where they fit (so `self.metadata.generation == 3`
/// holds), objects as maps keyed by string.
pub(super) fn to_cel(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(flag) => cel::Value::Bool(*flag),
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(int), _) => cel::Value::Int(int),
            (None, Some(uint)) => cel::Value::UInt(uint),
            _ => cel::Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => cel::Value::String(Arc::new(text.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let entries = map.iter().map(|(key, value)| (cel::objects::Key::from(key.as_str()), to_cel(value))).collect();
            cel::Value::Map(cel::objects::Map { map: Arc::new(entries) })
        }
    }
}

/// No status, a null one or `{}`: the controller has not written anything yet.
fn status_is_empty(object: &Value) -> bool {
    match object.get("status") {
        None | Some(Value::Null) => true,
        Some(Value::Object(status)) => status.is_empty(),
        Some(_) => false,
    }
}

/// The rule an object's `rollwatch.dev/ready-when` and `rollwatch.dev/failed-when` annotations
/// make, compiled (`None` without either).
pub(crate) fn annotation_rule(object: &Value) -> Result<Option<Rule>, RuleError> {
    let annotations = object.pointer("/metadata/annotations");
    let annotation = |name: &str| annotations.and_then(|a| a.get(name));
    if annotation(READY_WHEN_ANNOTATION).is_none() && annotation(FAILED_WHEN_ANNOTATION).is_none() {
        return Ok(None);
    }
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("object");
    // Named as everywhere else (`widget.example.com/w`), namespace aside.
    let source_name = match ObjectRef::of_object(object) {
        Some(object) => ObjectRef { namespace: None, ..object }.to_string(),
        None => format!("{}/{}", kind.to_ascii_lowercase(), object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")),
    };
    let compile = |annotation_name: &str| -> Result<Option<Expression>, RuleError> {
        let error = |problem: String| RuleError { source_name: source_name.clone(), location: format!("annotation {annotation_name}"), problem };
        match annotation(annotation_name) {
            None => Ok(None),
            Some(Value::String(text)) => Expression::compile(text).map(Some).map_err(|problem| error(format!("does not compile: {problem}"))),
            Some(_) => Err(error("expected a string (a CEL expression)".into())),
        }
    };
    let group = object.get("apiVersion").and_then(Value::as_str).and_then(|v| v.rsplit_once('/')).map_or("", |(group, _)| group);
    Ok(Some(Rule {
        target: Target::Kind { group: group.to_string(), kind: kind.to_string() },
        origin: format!("annotations of {source_name}"),
        matches: None,
        ready: compile(READY_WHEN_ANNOTATION)?,
        failed: compile(FAILED_WHEN_ANNOTATION)?,
        progressing: None,
        paused: None,
        message: None,
        reason: None,
    }))
}
