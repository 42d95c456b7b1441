//! CustomResourceDefinition: ready once `Established`; failed when its names are not accepted
//! (`NamesAccepted=False`: a plural or short name another CRD has taken), with the API server's
//! message. Until the server writes a status, it is not established yet.

use std::ops::ControlFlow;

use super::Context;
use super::generic::{condition_verdict, read_status};
use crate::{ReasonCode, State, Verdict};

pub(crate) fn view(ctx: &Context) -> Verdict {
    let object = ctx.object;
    let status = match read_status(ctx, || Verdict::new(State::Progressing, format!("Waiting for {object} to be established..."))) {
        ControlFlow::Continue(status) => status,
        ControlFlow::Break(verdict) => return verdict,
    };
    if let Some(names) = status.condition("NamesAccepted").filter(|c| c.status == "False") {
        return condition_verdict(ctx, State::Failed, format!("{object} names were not accepted"), names, ReasonCode::NamesNotAccepted);
    }
    match status.condition("Established") {
        Some(established) if established.status == "True" => Verdict::new(State::Ready, format!("{object} is established")),
        Some(established) => {
            condition_verdict(ctx, State::Progressing, format!("Waiting for {object} to be established"), established, ReasonCode::NotEstablished)
        }
        None => Verdict::new(State::Progressing, format!("Waiting for {object} to be established...")),
    }
}
