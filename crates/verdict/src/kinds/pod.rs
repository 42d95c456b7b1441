//! Pod on its own: ready (or completed, with its latest spec observed and any resize in place),
//! or failed by the pod detectors.

use crate::api::Pod;

use super::{Context, Rollout, failure_message};
use crate::pods::{ready_since, resize_in_flight};
use crate::{Progress, State, Verdict};

pub(crate) fn view(ctx: &Context, pod: &Pod) -> Verdict {
    let name = &ctx.object.name;
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    let mut assessment = ctx.assess(std::iter::once((ctx.object, pod)));
    if phase == "Failed" && assessment.failures.is_empty() {
        // Viewed by itself a failed pod has failed, even one its controller will replace.
        assessment.failures.append(&mut assessment.pending);
    }
    if phase == "Succeeded" {
        return Verdict::new(State::Ready, format!("pod {name:?} completed"));
    }
    if let Some(first) = assessment.failures.first() {
        let message = failure_message("pod", name, first, assessment.failures.len());
        return Verdict::new(State::Failed, message).with_reasons(assessment.failures);
    }
    let ready = ready_since(pod).is_some();
    // Since 1.33 kubelet reports the generation it acted on: a resized pod is Ready before its
    // new resources are in place.
    let observed = pod.status.as_ref().and_then(|s| s.observed_generation);
    let unobserved = pod.metadata.generation.zip(observed).is_some_and(|(generation, observed)| observed < generation);
    let rollout = match (pod.status.is_some(), phase, ready) {
        _ if unobserved => Rollout::waiting(format!("Waiting for pod {name:?} spec update to be observed...")),
        _ if resize_in_flight(pod) => Rollout::waiting(format!("Waiting for pod {name:?} to be resized...")),
        (false, ..) => Rollout::waiting(format!("Waiting for pod {name:?} to be scheduled...")),
        (_, "Running", true) => Rollout::done(format!("pod {name:?} is running and ready")),
        (_, "", _) | (_, "Pending", _) => Rollout::waiting(format!("Waiting for pod {name:?} to start (phase Pending)...")),
        (_, phase, _) => Rollout::waiting(format!("Waiting for pod {name:?} to be ready (phase {phase})...")),
    };
    let ready_count = i64::from(ready);
    let progress = Progress { desired: 1, updated: 1, ready: ready_count, available: ready_count, old_pending_termination: 0 };
    ctx.conclude("pod", rollout, assessment, progress)
}
