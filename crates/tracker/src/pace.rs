//! A rollout's clock: while a tracked Deployment, StatefulSet or DaemonSet is progressing, how it
//! keeps up with the duration model (`rollwatch_verdict::estimate`).
//!
//! One clock per rollout, keyed by the object's `metadata.generation`: a new spec (new template,
//! new replica count) starts a new clock and a new estimate. The clock starts when tracking first
//! sees that generation progressing, so a rollout already under way when tracking began is
//! measured from then: the elapsed time is shorter than the real one, which makes "slower than
//! expected" come later, never sooner. Pure: the live object, its verdict and the time in.
//!
//! The clock keeps what it read from the live object (its generation, whether the controller has
//! observed it, the estimate) rather than the object: with a thousand tracked workloads, a copy
//! of each would be a large share of rollwatch's memory.

use std::time::Duration;

use rollwatch_verdict::estimate::{Assumptions, Estimate, Pace, estimate, updated_available};
use rollwatch_verdict::{State, Verdict};
use serde_json::Value;

/// What the clock read from the live object's latest version.
struct Seen {
    generation: i64,
    /// The controller has observed this generation, so the status figures are this rollout's.
    observed: bool,
    /// `None` when the rollout has no duration to model (OnDelete, an invalid field).
    estimate: Option<Estimate>,
}

/// The rollout clock of one tracked object.
#[derive(Default)]
pub(crate) struct RolloutClock {
    seen: Option<Seen>,
    /// The generation the clock runs for, and when (since tracking started) it was first seen
    /// progressing.
    started: Option<(i64, Duration)>,
}

impl RolloutClock {
    /// Takes in a new version of the live object; a new generation gets its own estimate, which
    /// is returned (for a timeline's predicted waves) when there is one.
    pub(crate) fn observe(&mut self, generation: i64, observed: bool, live: impl FnOnce() -> Value) -> Option<&Estimate> {
        match &mut self.seen {
            Some(seen) if seen.generation == generation => {
                seen.observed = observed;
                None
            }
            _ => {
                // Only a new generation is modelled, so only then is the object read whole.
                let live = live();
                self.seen.insert(Seen { generation, observed, estimate: estimate(&live, &assumptions_for(&live)).ok() }).estimate.as_ref()
            }
        }
    }

    /// The live object is gone.
    pub(crate) fn forget(&mut self) {
        self.seen = None;
    }

    /// The pace of the rollout last observed, `now` since tracking started; `None` unless the
    /// verdict is progressing and the kind has a model.
    pub(crate) fn pace(&mut self, verdict: &Verdict, now: Duration) -> Option<Pace> {
        let seen = self.seen.as_ref()?;
        if verdict.state != State::Progressing {
            return None;
        }
        let started = match self.started {
            Some((generation, started)) if generation == seen.generation => started,
            _ => self.started.insert((seen.generation, now)).1,
        };
        // Until the controller observes the new generation, the status figures are the previous
        // rollout's: none of this rollout's pods exist yet.
        let updated = if seen.observed { updated_available(verdict.progress.as_ref()?) } else { 0 };
        Some(seen.estimate.as_ref()?.pace(now.saturating_sub(started), updated))
    }
}

/// Default pod timings; a DaemonSet runs on the nodes it is scheduled to.
fn assumptions_for(live: &Value) -> Assumptions {
    let nodes = live.pointer("/status/desiredNumberScheduled").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    Assumptions { nodes, ..Assumptions::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollwatch_verdict::Progress;
    use serde_json::json;

    fn deployment(generation: i64, replicas: u32) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "generation": generation},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
            "status": {"observedGeneration": generation},
        })
    }

    fn progressing(updated: i64, available: i64, old: i64) -> Verdict {
        let progress = Progress { desired: 3, updated, ready: available, available, old_pending_termination: old };
        Verdict::new(State::Progressing, "rolling").with_progress(progress)
    }

    fn observed<'a>(clock: &'a mut RolloutClock, live: &Value) -> &'a mut RolloutClock {
        let generation = live.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
        let observed = live.pointer("/status/observedGeneration").and_then(Value::as_i64).is_some_and(|g| g >= generation);
        clock.observe(generation, observed, || live.clone());
        clock
    }

    fn seconds(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_clock_starts_when_a_generation_is_first_seen_progressing() {
        let mut clock = RolloutClock::default();
        let live = deployment(2, 3);
        let first = observed(&mut clock, &live).pace(&progressing(1, 3, 3), seconds(10)).unwrap();
        assert_eq!(first.elapsed, Duration::ZERO);
        let later = observed(&mut clock, &live).pace(&progressing(1, 3, 3), seconds(25)).unwrap();
        assert_eq!(later.elapsed, seconds(15));
        assert_eq!(later.expected_total, first.expected_total);
        // A new generation is a new rollout: a new clock and a new estimate.
        let mut slow_start = deployment(3, 3);
        slow_start["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = json!({"exec": {"command": ["true"]}, "initialDelaySeconds": 60});
        let bigger = observed(&mut clock, &slow_start).pace(&progressing(0, 3, 3), seconds(40)).unwrap();
        assert_eq!(bigger.elapsed, Duration::ZERO);
        assert!(bigger.expected_total > first.expected_total);
    }

    #[test]
    fn a_rollout_stuck_long_enough_is_slower_than_expected() {
        let mut clock = RolloutClock::default();
        let live = deployment(2, 3);
        let start = observed(&mut clock, &live).pace(&progressing(1, 3, 3), seconds(0)).unwrap();
        assert!(!start.slower_than_expected());
        let due = start.next_pod_due.mul_f64(rollwatch_verdict::estimate::SLOWER_FACTOR) + rollwatch_verdict::estimate::SLOWER_SLACK;
        let stuck = observed(&mut clock, &live).pace(&progressing(1, 3, 3), due + seconds(1)).unwrap();
        assert!(stuck.slower_than_expected());
        // Once the new pods are available it is no longer behind.
        let caught_up = observed(&mut clock, &live).pace(&progressing(3, 3, 0), due + seconds(2)).unwrap();
        assert!(!caught_up.slower_than_expected());
    }

    #[test]
    fn figures_of_a_generation_not_yet_observed_are_the_previous_rollouts() {
        let mut clock = RolloutClock::default();
        let mut live = deployment(3, 3);
        live["status"]["observedGeneration"] = json!(2);
        // The previous rollout's figures: all updated and available.
        let unobserved = observed(&mut clock, &live).pace(&progressing(3, 3, 0), seconds(0)).unwrap();
        assert_eq!(unobserved.remaining(), unobserved.expected_total);
        live["status"]["observedGeneration"] = json!(3);
        let current = observed(&mut clock, &live).pace(&progressing(3, 3, 0), seconds(1)).unwrap();
        assert_eq!(current.remaining(), Duration::ZERO);
    }

    #[test]
    fn probe_timings_at_the_int32_limit_are_paced_without_overflow() {
        // Ten waves of 2^62 s each: adding them up panicked inside tracking.
        let mut live = deployment(2, 10);
        live["spec"]["strategy"] = json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}});
        live["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] =
            json!({"exec": {"command": ["true"]}, "periodSeconds": 2147483647, "successThreshold": 2147483647});
        let mut clock = RolloutClock::default();
        observed(&mut clock, &live).pace(&progressing(0, 3, 3), seconds(0)).unwrap();
        let pace = observed(&mut clock, &live).pace(&progressing(1, 3, 2), Duration::MAX).unwrap();
        assert_eq!(pace.expected_total, Duration::MAX);
        assert!(pace.slower_than_expected());
        assert_eq!(pace.after(Duration::MAX).elapsed, Duration::MAX);
    }

    #[test]
    fn no_pace_without_a_progressing_rollout_to_model() {
        let mut clock = RolloutClock::default();
        let live = deployment(2, 3);
        let ready = Verdict::new(State::Ready, "done").with_progress(Progress::default());
        assert_eq!(observed(&mut clock, &live).pace(&ready, seconds(1)), None);
        assert_eq!(RolloutClock::default().pace(&progressing(1, 3, 3), seconds(1)), None);
        observed(&mut clock, &live).forget();
        assert_eq!(clock.pace(&progressing(1, 3, 3), seconds(1)), None);
        let job = json!({"kind": "Job", "metadata": {"name": "once", "generation": 1}, "spec": {}});
        assert_eq!(observed(&mut clock, &job).pace(&progressing(0, 0, 0), seconds(1)), None);
        // A DaemonSet is modelled over the nodes it is scheduled to.
        let daemon_set = json!({
            "kind": "DaemonSet", "metadata": {"name": "agent", "generation": 4},
            "spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}},
            "status": {"desiredNumberScheduled": 3, "observedGeneration": 4},
        });
        assert!(observed(&mut clock, &daemon_set).pace(&progressing(0, 3, 3), seconds(1)).is_some());
    }
}
