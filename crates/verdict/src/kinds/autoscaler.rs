//! HorizontalPodAutoscaler: scaling when its controller says it can. `ScalingActive=False` (no
//! metrics: FailedGetResourceMetric, ...) or `AbleToScale=False` (FailedGetScale, ...) fail after
//! the waiting grace — metrics of starting pods come late — with the controller's reason. Read from
//! `status.conditions` (autoscaling/v2) or the annotation autoscaling/v1 keeps them in.

use super::Context;
use super::generic::{GenericCondition, generic};
use crate::{Reason, State, Verdict};

/// Where autoscaling/v1 objects carry the v2 conditions, as a JSON string.
pub(crate) const V1_CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";

pub(crate) fn view(ctx: &Context) -> Verdict {
    let name = &ctx.object.name;
    let autoscaler = generic(ctx);
    let from_annotation: Vec<GenericCondition> = autoscaler
        .and_then(|a| a.metadata.annotations.as_ref())
        .and_then(|a| a.get(V1_CONDITIONS_ANNOTATION))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let conditions = match autoscaler.and_then(|a| a.status.as_ref()).map(|s| s.conditions.as_slice()) {
        Some(conditions) if !conditions.is_empty() => conditions,
        _ => from_annotation.as_slice(),
    };
    let find = |type_: &str| conditions.iter().find(|c| c.type_ == type_);
    let active = find("ScalingActive");
    // ScalingDisabled: the target is scaled to zero on purpose; Backoff*: it just scaled and
    // waits out its stabilization window. Neither is trouble.
    let trouble = [active.filter(|c| c.reason.as_deref() != Some("ScalingDisabled")), find("AbleToScale")]
        .into_iter()
        .flatten()
        .find(|c| c.status == "False" && !c.reason.as_deref().unwrap_or_default().starts_with("Backoff"));
    if let Some(condition) = trouble {
        let code = condition.reason.as_deref().unwrap_or(condition.type_.as_str());
        let message = condition.message.clone().unwrap_or_else(|| format!("{} is False", condition.type_));
        let since = condition.last_transition_time.as_ref().map(|t| t.0);
        let reason = Reason { since, ..Reason::new(code, ctx.object.clone(), message) };
        if since.is_none_or(|since| ctx.clock.lasted(since, ctx.policy.waiting_grace)) {
            let message = format!("horizontalpodautoscaler {name:?} cannot scale: {code}: {}", reason.message);
            return Verdict::new(State::Failed, message).with_reasons(vec![reason]);
        }
        let message = format!("Waiting for horizontalpodautoscaler {name:?} to scale: {}...", condition.type_);
        return Verdict::new(State::Progressing, message).with_reasons(vec![reason]);
    }
    match active {
        Some(_) => Verdict::new(State::Ready, format!("horizontalpodautoscaler {name:?} is able to scale")),
        None => Verdict::new(State::Progressing, format!("Waiting for horizontalpodautoscaler {name:?} to report its conditions...")),
    }
}
