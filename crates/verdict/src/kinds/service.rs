//! Service (LoadBalancer ingress), Ingress (load balancer address), PersistentVolumeClaim (Bound).

use crate::api::Ingress;
use crate::api::{PersistentVolumeClaim, Service};

use super::Context;
use crate::{Reason, ReasonCode, State, Verdict};

pub(crate) fn view_service(ctx: &Context, service: &Service) -> Verdict {
    let name = &ctx.object.name;
    let service_type = service.spec.as_ref().and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP");
    if service_type != "LoadBalancer" {
        return Verdict::new(State::Ready, format!("service {name:?} is ready ({service_type})"));
    }
    let ingress = service.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_deref()).unwrap_or_default();
    let addresses: Vec<&str> = ingress.iter().filter_map(|i| i.ip.as_deref().or(i.hostname.as_deref())).collect();
    load_balancer_verdict("service", name, !ingress.is_empty(), &addresses)
}

pub(crate) fn view_ingress(ctx: &Context, ingress: &Ingress) -> Verdict {
    let name = &ctx.object.name;
    let entries = ingress.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_deref()).unwrap_or_default();
    let addresses: Vec<&str> = entries.iter().filter_map(|i| i.ip.as_deref().or(i.hostname.as_deref())).collect();
    load_balancer_verdict("ingress", name, !entries.is_empty(), &addresses)
}

/// Ready once the load balancer has an ingress entry: its controller writes one when it is
/// provisioned, with an IP, a host name, or neither (only ports or ipMode).
fn load_balancer_verdict(noun: &str, name: &str, provisioned: bool, addresses: &[&str]) -> Verdict {
    match (provisioned, addresses) {
        (false, _) => Verdict::new(State::Progressing, format!("Waiting for {noun} {name:?} to get a load balancer address...")),
        (true, []) => Verdict::new(State::Ready, format!("{noun} {name:?} has a load balancer")),
        (true, addresses) => Verdict::new(State::Ready, format!("{noun} {name:?} has load balancer address {}", addresses.join(", "))),
    }
}

pub(crate) fn view_claim(ctx: &Context, claim: &PersistentVolumeClaim) -> Verdict {
    let name = &ctx.object.name;
    let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    match phase {
        "Bound" => Verdict::new(State::Ready, format!("persistentvolumeclaim {name:?} is Bound")),
        "Lost" => {
            let reason = Reason::new(ReasonCode::ClaimLost, ctx.object.clone(), "the bound volume no longer exists");
            Verdict::new(State::Failed, format!("persistentvolumeclaim {name:?} is Lost: its volume no longer exists")).with_reasons(vec![reason])
        }
        phase => {
            // Provisioning trouble is reported by Events (ProvisioningFailed) and often resolves.
            let reasons = ctx
                .snapshot
                .events_about(ctx.object)
                .filter(|e| e.type_.as_deref() == Some("Warning"))
                .map(|e| {
                    let code = e.reason.as_deref().unwrap_or("Warning");
                    Reason::new(code, ctx.object.clone(), e.message.clone().unwrap_or_default())
                })
                .collect();
            Verdict::new(State::Progressing, format!("Waiting for persistentvolumeclaim {name:?} to be bound (phase {phase})...")).with_reasons(reasons)
        }
    }
}
