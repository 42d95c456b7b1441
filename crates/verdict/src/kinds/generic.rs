//! Any other kind, kstatus-style: observedGeneration, then the Stalled / Reconciling / Ready
//! conditions (and CustomResourceDefinition's Established / NamesAccepted, APIService's Available).
//! observedGeneration may be a number or a numeric string, as some controllers write it.

use serde::Deserialize;

use super::Context;
use crate::pods::lasted;
use crate::{Reason, ReasonCode, State, Verdict};

/// What rollwatch reads of a generic object's status.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenericStatus {
    #[serde(default, deserialize_with = "generation")]
    observed_generation: Option<i64>,
    #[serde(default)]
    pub(crate) conditions: Vec<GenericCondition>,
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
    pub(crate) last_transition_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}

pub(super) fn view(ctx: &Context, generation: Option<i64>, status: Option<&GenericStatus>) -> Verdict {
    let object = ctx.object;
    let Some(status) = status else {
        return if object.kind == "CustomResourceDefinition" {
            Verdict::new(State::Progressing, format!("Waiting for {object} to be established..."))
        } else {
            Verdict::new(State::Ready, format!("{object} has no status: nothing to wait for"))
        };
    };
    if let (Some(generation), Some(observed)) = (generation, status.observed_generation)
        && observed < generation
    {
        return Verdict::new(State::Progressing, format!("Waiting for {object} spec update to be observed..."));
    }
    let find = |type_: &str| status.conditions.iter().find(|c| c.type_ == type_);
    let reason = |condition: &GenericCondition, default_code: &str| Reason {
        since: condition.last_transition_time.as_ref().map(|t| t.0),
        ..Reason::new(
            condition.reason.as_deref().unwrap_or(default_code),
            object.clone(),
            condition.message.clone().unwrap_or_else(|| format!("{} is {}", condition.type_, condition.status)),
        )
    };
    let with_reason = |state: State, message: String, condition: &GenericCondition, code: &str| {
        let reason = reason(condition, code);
        let message = format!("{message}: {}", reason.message);
        Verdict::new(state, message).with_reasons(vec![reason])
    };
    if let Some(stalled) = find("Stalled").filter(|c| c.status == "True") {
        return with_reason(State::Failed, format!("{object} is stalled"), stalled, "Stalled");
    }
    if let Some(reconciling) = find("Reconciling").filter(|c| c.status == "True") {
        return with_reason(State::Progressing, format!("Waiting for {object} to reconcile"), reconciling, "Reconciling");
    }
    if object.kind == "APIService" && ctx.stored.group == "apiregistration.k8s.io" {
        // Available=False (MissingEndpoints, FailedDiscoveryCheck) while its backend starts is
        // normal: it counts after the waiting grace.
        return match find("Available") {
            Some(available) if available.status == "True" => Verdict::new(State::Ready, format!("{object} is available")),
            Some(available) => {
                let since = available.last_transition_time.as_ref().map(|t| t.0);
                let state = if since.is_none_or(|since| lasted(since, ctx.now, ctx.policy.waiting_grace)) { State::Failed } else { State::Progressing };
                with_reason(state, format!("{object} is not available"), available, ReasonCode::NotAvailable.as_str())
            }
            None => Verdict::new(State::Progressing, format!("Waiting for {object} to be available...")),
        };
    }
    if object.kind == "CustomResourceDefinition" {
        if let Some(names) = find("NamesAccepted").filter(|c| c.status == "False") {
            return with_reason(State::Failed, format!("{object} names were not accepted"), names, ReasonCode::NamesNotAccepted.as_str());
        }
        return match find("Established") {
            Some(established) if established.status == "True" => Verdict::new(State::Ready, format!("{object} is established")),
            Some(established) => {
                with_reason(State::Progressing, format!("Waiting for {object} to be established"), established, ReasonCode::NotEstablished.as_str())
            }
            None => Verdict::new(State::Progressing, format!("Waiting for {object} to be established...")),
        };
    }
    match find("Ready") {
        Some(ready) if ready.status == "True" => Verdict::new(State::Ready, format!("{object} is ready")),
        Some(ready) => with_reason(State::Progressing, format!("Waiting for {object} to be ready"), ready, ReasonCode::NotReady.as_str()),
        None => Verdict::new(State::Ready, format!("{object} reports no readiness condition: nothing to wait for")),
    }
}
