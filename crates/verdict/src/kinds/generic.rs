//! Any kind read by its conditions, kstatus-style: observedGeneration, then the Stalled /
//! Reconciling conditions (for every such kind: [`kstatus`]), then Ready. The viewers of
//! CustomResourceDefinition and APIService read their own conditions after the same checks.
//! observedGeneration may be a number or a numeric string, as some controllers write it; without
//! one in the status, the `Ready` condition's own observedGeneration says which spec it is for.

use std::ops::ControlFlow;

use serde::Deserialize;

use super::Context;
use crate::snapshot::{Generic, Typed};
use crate::{Reason, ReasonCode, State, Verdict};

/// What rollwatch reads of a generic object's status.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenericStatus {
    #[serde(default, deserialize_with = "generation")]
    pub(crate) observed_generation: Option<i64>,
    #[serde(default)]
    pub(crate) conditions: Vec<GenericCondition>,
}

impl GenericStatus {
    pub(super) fn condition(&self, type_: &str) -> Option<&GenericCondition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Whether this status was written for an older spec than `generation`: by
    /// `status.observedGeneration`, or, when a controller writes none, by the observedGeneration of
    /// its `Ready` condition (metav1.Condition carries one; cert-manager, Crossplane and operators
    /// built on controller-runtime's condition helpers set it) — without this a Ready=True left
    /// from the previous spec would call an update ready before the controller has looked at it.
    pub(crate) fn is_behind(&self, generation: Option<i64>) -> bool {
        let observed = self.observed_generation.or_else(|| self.condition("Ready").and_then(|ready| ready.observed_generation));
        matches!((generation, observed), (Some(generation), Some(observed)) if observed < generation)
    }
}

/// observedGeneration as a number, or as the string some controllers write (`"3"`); anything
/// else is an error naming the field.
fn generation<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Generation {
        Number(i64),
        Text(String),
    }
    match Option::<Generation>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Generation::Number(number)) => Ok(Some(number)),
        Some(Generation::Text(text)) => {
            text.trim().parse().map(Some).map_err(|_| serde::de::Error::custom(format!("expected a generation (an integer), found {text:?}")))
        }
    }
}

/// [`generation`], or `None` for anything that is not one.
fn lenient_generation<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value.and_then(|value| match value {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }))
}

/// A status condition as custom resources write them: only `type` and `status` are dependable
/// (k8s-openapi's `Condition` requires lastTransitionTime, which many controllers omit).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenericCondition {
    #[serde(rename = "type")]
    pub(super) type_: String,
    pub(super) status: String,
    pub(super) reason: Option<String>,
    pub(super) message: Option<String>,
    /// Lenient: a condition's generation only ever holds a verdict back, so one that is not a
    /// number is ignored rather than making the whole object unreadable.
    #[serde(default, deserialize_with = "lenient_generation")]
    pub(super) observed_generation: Option<i64>,
    pub(crate) last_transition_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}

/// The object as read generically; `None` for kinds with a typed form.
pub(super) fn generic<'a>(ctx: &Context<'a>) -> Option<&'a Generic> {
    match &ctx.stored.typed {
        Typed::Generic(generic) => Some(generic),
        _ => None,
    }
}

/// The status a conditions viewer reads; or, as `Break`, what every such viewer says first:
/// `without_status()` when the object has none, else [`kstatus`]'s verdict.
pub(super) fn read_status<'a>(ctx: &Context<'a>, without_status: impl FnOnce() -> Verdict) -> ControlFlow<Verdict, &'a GenericStatus> {
    let Some((generation, Some(status))) = generic(ctx).map(|g| (g.metadata.generation, g.status.as_ref())) else {
        return ControlFlow::Break(without_status());
    };
    match kstatus(ctx, generation, status) {
        Some(verdict) => ControlFlow::Break(verdict),
        None => ControlFlow::Continue(status),
    }
}

/// The generic conditions viewer: kinds without a viewer of their own, custom resources.
pub(crate) fn view(ctx: &Context) -> Verdict {
    let object = ctx.object;
    let status = match read_status(ctx, || Verdict::new(State::Ready, format!("{object} has no status: nothing to wait for"))) {
        ControlFlow::Continue(status) => status,
        ControlFlow::Break(verdict) => return verdict,
    };
    match status.condition("Ready") {
        Some(ready) if ready.status == "True" => Verdict::new(State::Ready, format!("{object} is ready")),
        Some(ready) => condition_verdict(ctx, State::Progressing, format!("Waiting for {object} to be ready"), ready, ReasonCode::NotReady),
        None => Verdict::new(State::Ready, format!("{object} reports no readiness condition: nothing to wait for")),
    }
}

/// What kstatus reads of any resource before its own conditions: a spec update the controller
/// has not observed yet (progressing), `Stalled=True` (failed: the controller says it cannot
/// get there) and `Reconciling=True` (progressing), each with the condition's reason.
pub(super) fn kstatus(ctx: &Context, generation: Option<i64>, status: &GenericStatus) -> Option<Verdict> {
    let object = ctx.object;
    if status.is_behind(generation) {
        return Some(Verdict::new(State::Progressing, format!("Waiting for {object} spec update to be observed...")));
    }
    if let Some(stalled) = status.condition("Stalled").filter(|c| c.status == "True") {
        return Some(condition_verdict(ctx, State::Failed, format!("{object} is stalled"), stalled, ReasonCode::Stalled));
    }
    if let Some(reconciling) = status.condition("Reconciling").filter(|c| c.status == "True") {
        return Some(condition_verdict(ctx, State::Progressing, format!("Waiting for {object} to reconcile"), reconciling, ReasonCode::Reconciling));
    }
    None
}

/// `message: <the condition's message>`, with the condition as the reason (its own reason as the
/// code, else `default_code`).
pub(super) fn condition_verdict(ctx: &Context, state: State, message: String, condition: &GenericCondition, default_code: ReasonCode) -> Verdict {
    let reason = Reason {
        since: condition.last_transition_time.as_ref().map(|t| t.0),
        ..Reason::new(
            condition.reason.as_deref().unwrap_or(default_code.as_str()),
            ctx.object.clone(),
            condition.message.clone().unwrap_or_else(|| format!("{} is {}", condition.type_, condition.status)),
        )
    };
    let message = format!("{message}: {}", reason.message);
    Verdict::new(state, message).with_reasons(vec![reason])
}
