//! APIService: ready once `Available`. `Available=False` (MissingEndpoints, FailedDiscoveryCheck)
//! while its backend starts is normal: it counts after the waiting grace.

use std::ops::ControlFlow;

use super::Context;
use super::generic::{condition_verdict, read_status};
use crate::{ReasonCode, State, Verdict};

pub(crate) fn view(ctx: &Context) -> Verdict {
    let object = ctx.object;
    let status = match read_status(ctx, || Verdict::new(State::Ready, format!("{object} has no status: nothing to wait for"))) {
        ControlFlow::Continue(status) => status,
        ControlFlow::Break(verdict) => return verdict,
    };
    match status.condition("Available") {
        Some(available) if available.status == "True" => Verdict::new(State::Ready, format!("{object} is available")),
        Some(available) => {
            let since = available.last_transition_time.as_ref().map(|t| t.0);
            let state = if since.is_none_or(|since| ctx.clock.lasted(since, ctx.policy.waiting_grace)) { State::Failed } else { State::Progressing };
            condition_verdict(ctx, state, format!("{object} is not available"), available, ReasonCode::NotAvailable)
        }
        None => Verdict::new(State::Progressing, format!("Waiting for {object} to be available...")),
    }
}
