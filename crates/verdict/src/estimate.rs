//! Rollout duration model (issue #7): how long should this rollout take, at the very least?
//!
//! What it models: the controllers' scaling decisions replayed as discrete events, not a
//! closed-form rule of thumb.
//! - Deployment `RollingUpdate`: the deployment controller's loop (`rolling.go`): scale the new
//!   ReplicaSet up to `replicas + maxSurge` total, then scale old ones down while at least
//!   `replicas - maxUnavailable` pods stay available, repeated until nothing changes; then time
//!   advances to the next moment new pods become available. Fenceposts follow
//!   `ResolveFenceposts`: surge percentages round up, unavailable ones round down, and when both
//!   resolve to zero, unavailable becomes 1; unavailable is capped at the replicas.
//! - Deployment `Recreate`: all old pods terminate, then all new pods start together.
//! - StatefulSet `RollingUpdate`: one pod at a time in reverse ordinal order, only ordinals
//!   `>= partition` (in v1.20 `Parallel` pod management still updates one pod at a time).
//! - DaemonSet `RollingUpdate`: `maxUnavailable` nodes at a time (percentages of the node count
//!   round up, as in `daemon/update.go`); each node deletes its old pod, then starts the new one.
//! - Pod readiness as a kubelet does it: readiness probes run at `initialDelaySeconds + n ×
//!   periodSeconds` after the container starts, count only once its startup probe has passed (at
//!   the startup probe's `initialDelaySeconds`), and `successThreshold` successes in a row make it
//!   Ready; without a readiness probe it is Ready once started. The slowest container decides.
//!   Available `minReadySeconds` after Ready: the controllers re-sync then.
//!   StatefulSets have `minReadySeconds` only from Kubernetes 1.22; on older clusters the API
//!   server drops the field, so a manifest for them should not set it.
//!
//! What it ignores, and why: scheduling, image pulls and container start are one assumed latency
//! ([`Assumptions`]) because the spec does not tell them; probe failures, crashes and resource
//! shortages are the verdict engine's business, so this is a *minimum*; old pods are assumed all
//! available when the rollout starts; probe jitter and controller resync delays are sub-second.
//!
//! Pure: a manifest (`serde_json::Value`) in, an [`Estimate`] out; no clock, no I/O.
//!
//! For a progress display: estimate the live object (its spec is the manifest's; for a DaemonSet
//! pass `status.desiredNumberScheduled` as [`Assumptions::nodes`]), then feed the time since the
//! update and the number of *updated pods that are available* — a Deployment's new ReplicaSet's
//! `status.availableReplicas`; a StatefulSet's or DaemonSet's pods of the update revision that
//! are Ready (and available) — to [`Estimate::remaining_after`] and
//! [`Estimate::is_slower_than_expected`], or take both at once with [`Estimate::pace`].
//! [`updated_available`] derives that number from a verdict's replica figures. The tracker does
//! this while a rollout is progressing; its clock starts when it first sees the rollout.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::Progress;

/// Per-pod times the workload's spec does not tell.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumptions {
    /// From pod creation until its containers run (scheduling, image pull, start).
    pub pod_start: Duration,
    /// From deletion until an old pod is gone (only waited for where a controller waits for it).
    pub pod_termination: Duration,
    /// Nodes a DaemonSet runs on; a DaemonSet cannot be estimated without it.
    pub nodes: Option<u32>,
}

impl Default for Assumptions {
    fn default() -> Self {
        Self {
            pod_start: Duration::from_secs(1),
            pod_termination: Duration::from_secs(1),
            nodes: None,
        }
    }
}

/// Why a manifest cannot be estimated; names the object and the field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EstimateError {
    #[error("{object}: field {field}: {problem}")]
    InvalidField {
        object: String,
        field: String,
        problem: String,
    },
    #[error(
        "{object}: kind {kind} has no rollout to estimate (Deployment, StatefulSet or DaemonSet)"
    )]
    UnsupportedKind { object: String, kind: String },
    #[error("{object}: strategy OnDelete updates pods only when they are deleted by hand")]
    OnDelete { object: String },
    #[error("{object}: a DaemonSet estimate needs the number of nodes it runs on")]
    NodeCountMissing { object: String },
}

/// A set of new pods created together; their availability unblocks the next scaling step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wave {
    /// New pods created in this wave.
    pub pods: u32,
    /// Since the rollout started.
    #[serde(rename = "starts_at_seconds", serialize_with = "as_seconds")]
    pub starts_at: Duration,
    /// When all pods of the wave are available.
    #[serde(rename = "available_at_seconds", serialize_with = "as_seconds")]
    pub available_at: Duration,
}

/// The expected minimum duration of one workload's rollout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// `Deployment/web`.
    pub workload: String,
    /// The strategy and its resolved parameters, e.g. `RollingUpdate maxSurge=8 maxUnavailable=7`.
    pub strategy: String,
    /// Pods the rollout replaces (StatefulSet: only ordinals at or above the partition).
    pub pods_to_update: u32,
    pub waves: Vec<Wave>,
    #[serde(rename = "total_seconds", serialize_with = "as_seconds")]
    pub total: Duration,
    /// From creation to Ready for one new pod.
    #[serde(rename = "per_pod_ready_seconds", serialize_with = "as_seconds")]
    pub per_pod_ready: Duration,
    /// From creation to available (Ready + minReadySeconds) for one new pod.
    #[serde(rename = "per_pod_available_seconds", serialize_with = "as_seconds")]
    pub per_pod_available: Duration,
}

/// A rollout is "slower than expected" when it needs more than this factor of the model's time
/// to reach its current progress (plus [`SLOWER_SLACK`]): generous, because the model is a
/// minimum and the hint must not cry wolf.
pub const SLOWER_FACTOR: f64 = 2.0;
/// Absolute slack added to the threshold so short rollouts are not flagged for seconds of delay.
pub const SLOWER_SLACK: Duration = Duration::from_secs(30);

impl Estimate {
    /// Model time at which `updated_available` updated pods are available: 0 for none, the
    /// total for all (or more). Waves become available in order, as every pod takes as long.
    pub fn expected_time_for(&self, updated_available: u32) -> Duration {
        if updated_available == 0 {
            return Duration::ZERO;
        }
        let mut reached = 0;
        for wave in &self.waves {
            reached += wave.pods;
            if reached >= updated_available {
                return wave.available_at;
            }
        }
        self.total
    }

    /// Expected remaining time (at least) once `updated_available` updated pods are available,
    /// `elapsed` after the start. The rollout's position on the model's timeline is `elapsed`,
    /// but never before the moment the model reaches this progress (a rollout ahead of the model
    /// still has the model's rest to go) nor past the moment it reaches the next pod (a rollout
    /// behind the model still has everything after that pod to go).
    pub fn remaining_after(&self, elapsed: Duration, updated_available: u32) -> Duration {
        self.pace(elapsed, updated_available).remaining()
    }

    /// True when the next updated pod is overdue: `elapsed` exceeds [`SLOWER_FACTOR`] × the
    /// model's time for `updated_available + 1` pods, plus [`SLOWER_SLACK`]. A hint, not a failure.
    pub fn is_slower_than_expected(&self, elapsed: Duration, updated_available: u32) -> bool {
        self.pace(elapsed, updated_available).slower_than_expected()
    }

    /// Where a rollout `elapsed` into its update, with `updated_available` updated pods
    /// available, stands against this estimate.
    pub fn pace(&self, elapsed: Duration, updated_available: u32) -> Pace {
        let done = updated_available >= self.pods_to_update;
        let next_pod_due = if done {
            self.total
        } else {
            self.expected_time_for(updated_available + 1)
        };
        Pace {
            expected_total: self.total,
            elapsed,
            reached_at: if done { self.total } else { self.expected_time_for(updated_available) },
            next_pod_due,
            done,
        }
    }

    /// The readable breakdown printed by `rollwatch plan`.
    pub fn render_text(&self) -> String {
        let mut text = format!(
            "{}: {}, {} pod(s) to update in {} wave(s), at least {}\n  per pod: ready after {}, available after {}\n",
            self.workload,
            self.strategy,
            self.pods_to_update,
            self.waves.len(),
            seconds(self.total),
            seconds(self.per_pod_ready),
            seconds(self.per_pod_available),
        );
        for (index, wave) in self.waves.iter().enumerate() {
            let _ = writeln!(
                text,
                "  wave {}: {} new pod(s) at {}, available at {}",
                index + 1,
                wave.pods,
                seconds(wave.starts_at),
                seconds(wave.available_at)
            );
        }
        text
    }

    /// Advice for `--timeout`: a warning when the timeout is shorter than the minimum.
    pub fn timeout_advice(&self, timeout: Duration) -> Option<String> {
        (timeout < self.total).then(|| {
            format!(
                "{}: timeout {} is shorter than the expected minimum rollout time {}",
                self.workload,
                seconds(timeout),
                seconds(self.total)
            )
        })
    }
}

/// A rollout's standing against its [`Estimate`] at one moment, with the progress it had then.
///
/// Carries the model's times for that progress rather than only the results, so a display can
/// tell the remaining time a few seconds later ([`Pace::after`]) without the estimate and
/// without a new update: while the progress stays the same, only the clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pace {
    /// The whole rollout, per the model.
    #[serde(rename = "expected_total_seconds", serialize_with = "as_seconds")]
    pub expected_total: Duration,
    /// Since the rollout's clock started.
    #[serde(rename = "elapsed_seconds", serialize_with = "as_seconds")]
    pub elapsed: Duration,
    /// Model time at which the current progress is reached.
    #[serde(skip)]
    reached_at: Duration,
    /// Model time at which one more updated pod is available (the total once all are).
    #[serde(rename = "next_pod_due_seconds", serialize_with = "as_seconds")]
    pub next_pod_due: Duration,
    /// Every updated pod is available: nothing left for the model.
    #[serde(skip)]
    done: bool,
}

impl Pace {
    /// Expected remaining time (at least), as [`Estimate::remaining_after`] tells it.
    pub fn remaining(&self) -> Duration {
        if self.done {
            return Duration::ZERO;
        }
        let position = self.elapsed.clamp(self.reached_at, self.next_pod_due);
        self.expected_total.saturating_sub(position)
    }

    /// The next updated pod is overdue: more than [`SLOWER_FACTOR`] × its model time plus
    /// [`SLOWER_SLACK`] has passed. A hint, never a failure.
    pub fn slower_than_expected(&self) -> bool {
        !self.done && self.elapsed > self.next_pod_due.mul_f64(SLOWER_FACTOR) + SLOWER_SLACK
    }

    /// The same progress `by` later.
    pub fn after(&self, by: Duration) -> Pace {
        Pace {
            elapsed: self.elapsed + by,
            ..*self
        }
    }
}

/// The model's *updated pods that are available*, from a workload verdict's replica figures.
///
/// No figure counts them directly: `updated` includes updated pods not yet available, and
/// `available` includes old pods. But every pod is either updated or old
/// (`old_pending_termination`), so `available - old_pending_termination` is exactly the updated
/// available pods when the old ones are all available, as the model assumes; otherwise it
/// counts fewer, which can only make "slower than expected" come sooner. The same holds for the
/// three kinds: a Deployment's figures cover all its ReplicaSets' pods, a StatefulSet's all its
/// pods (`available` falls back to `ready` before Kubernetes 1.22), a DaemonSet's all its
/// scheduled pods.
pub fn updated_available(progress: &Progress) -> u32 {
    let counted = (progress.available - progress.old_pending_termination).clamp(0, progress.updated.max(0));
    u32::try_from(counted).unwrap_or(u32::MAX)
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

fn as_seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// Estimate the rollout of a Deployment, StatefulSet or DaemonSet manifest.
pub fn estimate(workload: &Value, assumptions: &Assumptions) -> Result<Estimate, EstimateError> {
    let kind = workload
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("<no kind>");
    let name = workload
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<no name>");
    let fields = Fields {
        object: format!("{kind}/{name}"),
        root: workload,
    };
    let pod_times = PodTimes::read(&fields, assumptions)?;
    let plan = match kind {
        "Deployment" => deployment(&fields, &pod_times, assumptions)?,
        "StatefulSet" => stateful_set(&fields, &pod_times, assumptions)?,
        "DaemonSet" => daemon_set(&fields, &pod_times, assumptions)?,
        _ => {
            return Err(EstimateError::UnsupportedKind {
                object: fields.object,
                kind: kind.to_owned(),
            });
        }
    };
    let total = plan
        .waves
        .iter()
        .map(|wave| wave.available_at)
        .max()
        .unwrap_or_default();
    Ok(Estimate {
        workload: fields.object,
        strategy: plan.strategy,
        pods_to_update: plan.waves.iter().map(|wave| wave.pods).sum(),
        waves: plan.waves,
        total,
        per_pod_ready: pod_times.ready,
        per_pod_available: pod_times.available,
    })
}

struct Plan {
    strategy: String,
    waves: Vec<Wave>,
}

/// Typed reads from the manifest with errors naming the object and the field.
struct Fields<'a> {
    object: String,
    root: &'a Value,
}

impl Fields<'_> {
    fn invalid(&self, pointer: &str, problem: &str) -> EstimateError {
        EstimateError::InvalidField {
            object: self.object.clone(),
            field: pointer.trim_start_matches('/').replace('/', "."),
            problem: problem.to_owned(),
        }
    }

    fn count_in(
        &self,
        value: Option<&Value>,
        pointer: &str,
        default: u32,
    ) -> Result<u32, EstimateError> {
        match value {
            None | Some(Value::Null) => Ok(default),
            Some(value) => value
                .as_u64()
                .and_then(|number| u32::try_from(number).ok())
                .ok_or_else(|| self.invalid(pointer, "expected a non-negative integer")),
        }
    }

    fn count(&self, pointer: &str, default: u32) -> Result<u32, EstimateError> {
        self.count_in(self.root.pointer(pointer), pointer, default)
    }

    fn text(&self, pointer: &str) -> Result<Option<&str>, EstimateError> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_str()
                .map(Some)
                .ok_or_else(|| self.invalid(pointer, "expected a string")),
        }
    }

    /// An int-or-percent field scaled against `total` like `intstr.GetScaledValueFromIntOrPercent`.
    fn scaled(
        &self,
        pointer: &str,
        default: Value,
        total: u32,
        round_up: bool,
    ) -> Result<u32, EstimateError> {
        let value = self
            .root
            .pointer(pointer)
            .filter(|value| !value.is_null())
            .unwrap_or(&default);
        let Value::String(percent) = value else {
            return self.count_in(Some(value), pointer, 0);
        };
        let digits = percent
            .strip_suffix('%')
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or_else(|| {
                self.invalid(pointer, "expected an integer or a percentage like \"25%\"")
            })?;
        let scaled = digits * u64::from(total);
        let rounded = if round_up {
            scaled.div_ceil(100)
        } else {
            scaled / 100
        };
        Ok(u32::try_from(rounded).unwrap_or(u32::MAX))
    }
}

/// Times from a new pod's creation, the same for every pod of the workload.
struct PodTimes {
    ready: Duration,
    available: Duration,
}

impl PodTimes {
    fn read(fields: &Fields, assumptions: &Assumptions) -> Result<Self, EstimateError> {
        let containers = "/spec/template/spec/containers";
        let mut slowest = Duration::ZERO;
        for (index, container) in fields
            .root
            .pointer(containers)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let base = format!("{containers}/{index}");
            let probe = |name: &str, field: &str, default: u32| {
                let pointer = format!("{base}/{name}/{field}");
                fields.count_in(
                    container.pointer(&format!("/{name}/{field}")),
                    &pointer,
                    default,
                )
            };
            let declared = |name: &str| container.get(name).is_some_and(|probe| !probe.is_null());
            let startup_delay = if declared("startupProbe") {
                probe("startupProbe", "initialDelaySeconds", 0)?
            } else {
                0
            };
            let readiness = if declared("readinessProbe") {
                Some(ReadinessProbe {
                    initial_delay: probe("readinessProbe", "initialDelaySeconds", 0)?,
                    period: probe("readinessProbe", "periodSeconds", 10)?,
                    success_threshold: probe("readinessProbe", "successThreshold", 1)?,
                })
            } else {
                None
            };
            slowest = slowest.max(container_ready_after(startup_delay, readiness));
        }
        let ready = assumptions.pod_start + slowest;
        // Available `minReadySeconds` after Ready: the ReplicaSet and DaemonSet controllers re-sync
        // that long after the status update that saw the pods Ready (while pods are ready but not
        // yet available), and the Ready condition's lastTransitionTime is truncated to the second,
        // so by then the pods count as available. (Their other re-check, `minReadySeconds + 1 s`
        // after a pod turns Ready, comes later.)
        Ok(Self {
            ready,
            available: ready + secs(fields.count("/spec/minReadySeconds", 0)?),
        })
    }
}

struct ReadinessProbe {
    initial_delay: u32,
    period: u32,
    success_threshold: u32,
}

/// When a container turns Ready, counted from its start, as the kubelet probes: a startup probe
/// passes at its first run (`initialDelaySeconds`; its successThreshold must be 1); readiness
/// probes run at `initialDelaySeconds + n × periodSeconds` from the container's start but count
/// only once the container has started, and `successThreshold` consecutive successes make it Ready.
fn container_ready_after(startup_delay: u32, readiness: Option<ReadinessProbe>) -> Duration {
    let Some(probe) = readiness else {
        return secs(startup_delay);
    };
    // The API rejects periods and thresholds below 1; treat them as 1 rather than divide by zero.
    let period = probe.period.max(1);
    let first_counted_run = startup_delay
        .saturating_sub(probe.initial_delay)
        .div_ceil(period);
    let runs_until_ready = first_counted_run + probe.success_threshold.max(1) - 1;
    secs(probe.initial_delay) + secs(period) * runs_until_ready
}

fn secs(seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds))
}

fn deployment(
    fields: &Fields,
    pod: &PodTimes,
    assumptions: &Assumptions,
) -> Result<Plan, EstimateError> {
    let replicas = fields.count("/spec/replicas", 1)?;
    match fields
        .text("/spec/strategy/type")?
        .unwrap_or("RollingUpdate")
    {
        "Recreate" => Ok(Plan {
            strategy: "Recreate".to_owned(),
            waves: one_at_a_time(replicas, replicas, pod, assumptions.pod_termination),
        }),
        "RollingUpdate" => {
            let surge = fields.scaled(
                "/spec/strategy/rollingUpdate/maxSurge",
                "25%".into(),
                replicas,
                true,
            )?;
            let mut unavailable = fields.scaled(
                "/spec/strategy/rollingUpdate/maxUnavailable",
                "25%".into(),
                replicas,
                false,
            )?;
            if surge == 0 && unavailable == 0 {
                unavailable = 1;
            }
            // `deploymentutil.MaxUnavailable`: never more than the replicas.
            unavailable = unavailable.min(replicas);
            Ok(Plan {
                strategy: format!("RollingUpdate maxSurge={surge} maxUnavailable={unavailable}"),
                waves: rolling_update(replicas, surge, unavailable, pod.available),
            })
        }
        _ => Err(fields.invalid("/spec/strategy/type", "expected RollingUpdate or Recreate")),
    }
}

/// Replays the deployment controller: per sync, scale the new ReplicaSet up within
/// `replicas + surge`, then old ones down while `replicas - unavailable` stay available; repeat
/// until stable, then wait for the next new pods to become available. Old pods leave the counts
/// as soon as they are scaled down (the controller counts ReplicaSet replicas, not terminating pods).
fn rolling_update(
    replicas: u32,
    surge: u32,
    unavailable: u32,
    pod_available: Duration,
) -> Vec<Wave> {
    let (mut old, mut new_total, mut new_available) = (replicas, 0, 0);
    let mut pending: Vec<(Duration, u32)> = Vec::new();
    let mut waves: Vec<Wave> = Vec::new();
    let mut now = Duration::ZERO;
    let min_available = replicas.saturating_sub(unavailable);
    loop {
        loop {
            let scale_up = (replicas + surge)
                .saturating_sub(old + new_total)
                .min(replicas - new_total);
            if scale_up > 0 {
                new_total += scale_up;
                pending.push((now + pod_available, scale_up));
                match waves.last_mut() {
                    Some(wave) if wave.starts_at == now => wave.pods += scale_up,
                    _ => waves.push(Wave {
                        pods: scale_up,
                        starts_at: now,
                        available_at: now + pod_available,
                    }),
                }
            }
            let scale_down = (old + new_available).saturating_sub(min_available).min(old);
            old -= scale_down;
            if scale_up == 0 && scale_down == 0 {
                break;
            }
        }
        // The fenceposts guarantee progress: surge or unavailable is at least 1.
        let Some(next) = pending.iter().map(|(at, _)| *at).min() else {
            break;
        };
        now = next;
        new_available += pending
            .iter()
            .filter(|(at, _)| *at == next)
            .map(|(_, pods)| pods)
            .sum::<u32>();
        pending.retain(|(at, _)| *at != next);
    }
    waves
}

/// `waves` consecutive waves of `pods_per_wave` (the last may be smaller) replacing `pods` pods:
/// each deletes old pods, waits `termination`, then waits for the new ones to be available.
fn one_at_a_time(
    pods: u32,
    pods_per_wave: u32,
    pod: &PodTimes,
    termination: Duration,
) -> Vec<Wave> {
    let mut waves = Vec::new();
    let (mut remaining, mut now) = (pods, Duration::ZERO);
    while remaining > 0 {
        let size = remaining.min(pods_per_wave.max(1));
        let starts_at = now + termination;
        now = starts_at + pod.available;
        waves.push(Wave {
            pods: size,
            starts_at,
            available_at: now,
        });
        remaining -= size;
    }
    waves
}

fn stateful_set(
    fields: &Fields,
    pod: &PodTimes,
    assumptions: &Assumptions,
) -> Result<Plan, EstimateError> {
    let replicas = fields.count("/spec/replicas", 1)?;
    let management = fields
        .text("/spec/podManagementPolicy")?
        .unwrap_or("OrderedReady");
    if !matches!(management, "OrderedReady" | "Parallel") {
        return Err(fields.invalid(
            "/spec/podManagementPolicy",
            "expected OrderedReady or Parallel",
        ));
    }
    require_rolling_update(fields)?;
    {
        let partition = fields.count("/spec/updateStrategy/rollingUpdate/partition", 0)?;
        Ok(Plan {
            strategy: format!(
                "RollingUpdate {management} partition={partition}, one pod at a time"
            ),
            waves: one_at_a_time(
                replicas.saturating_sub(partition),
                1,
                pod,
                assumptions.pod_termination,
            ),
        })
    }
}

fn daemon_set(
    fields: &Fields,
    pod: &PodTimes,
    assumptions: &Assumptions,
) -> Result<Plan, EstimateError> {
    let nodes = assumptions
        .nodes
        .ok_or_else(|| EstimateError::NodeCountMissing {
            object: fields.object.clone(),
        })?;
    require_rolling_update(fields)?;
    {
        let pointer = "/spec/updateStrategy/rollingUpdate/maxUnavailable";
        let unavailable = fields.scaled(pointer, 1.into(), nodes, true)?;
        if unavailable == 0 && nodes > 0 {
            return Err(fields.invalid(
                pointer,
                "must be at least 1 (maxSurge is not supported on v1.20)",
            ));
        }
        Ok(Plan {
            strategy: format!("RollingUpdate maxUnavailable={unavailable} of {nodes} node(s)"),
            waves: one_at_a_time(nodes, unavailable, pod, assumptions.pod_termination),
        })
    }
}

/// StatefulSets and DaemonSets share `updateStrategy`: only `RollingUpdate` has a duration.
fn require_rolling_update(fields: &Fields) -> Result<(), EstimateError> {
    match fields
        .text("/spec/updateStrategy/type")?
        .unwrap_or("RollingUpdate")
    {
        "RollingUpdate" => Ok(()),
        "OnDelete" => Err(EstimateError::OnDelete {
            object: fields.object.clone(),
        }),
        _ => Err(fields.invalid(
            "/spec/updateStrategy/type",
            "expected RollingUpdate or OnDelete",
        )),
    }
}
