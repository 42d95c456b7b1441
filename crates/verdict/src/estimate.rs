//! Rollout duration model (issue #7): how long should this rollout take, at the very least?
//!
//! What it models: the controllers' scaling decisions replayed as discrete events, not a
//! closed-form rule of thumb.
//! - Deployment `RollingUpdate`: the deployment controller's loop (`rolling.go`): scale the new
//!   ReplicaSet up to `replicas + maxSurge` total, then scale old ones down while at least
//!   `replicas - maxUnavailable` pods stay available, repeated until nothing changes; then time
//!   advances to the next moment new pods become available. As every new pod takes as long to be
//!   available, that loop starts `maxSurge + maxUnavailable` new pods per wave, one wave each
//!   time the previous one is available, which is computed directly (the unit tests replay the
//!   loop to check it). Fenceposts follow `ResolveFenceposts`: surge percentages round up,
//!   unavailable ones round down, and when both resolve to zero, unavailable becomes 1;
//!   unavailable is capped at the replicas.
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
//! Hostile values cost nothing: the same code runs on live objects while tracking, so it must
//! never panic nor allocate per pod. Counts, periods and thresholds above the int32 range are
//! refused with the field named (the API server refuses them too); arithmetic on times
//! saturates; identical consecutive waves are one [`Wave`] with a `count`, so an estimate holds
//! at most two waves per workload, however many replicas it has.
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
use crate::registry::{self, Model};

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
        Self { pod_start: Duration::from_secs(1), pod_termination: Duration::from_secs(1), nodes: None }
    }
}

/// Why a manifest cannot be estimated; names the object and the field.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum EstimateError {
    #[error("{object}: field {field}: {problem}")]
    InvalidField { object: String, field: String, problem: String },
    #[error("{object}: kind {kind} has no rollout to estimate (Deployment, StatefulSet or DaemonSet)")]
    UnsupportedKind { object: String, kind: String },
    #[error("{object}: strategy OnDelete updates pods only when they are deleted by hand")]
    OnDelete { object: String },
    #[error("{object}: a DaemonSet estimate needs the number of nodes it runs on")]
    NodeCountMissing { object: String },
}

/// A set of new pods created together; their availability unblocks the next scaling step.
///
/// `count` identical waves in a row, each `every` after the one before, are one `Wave`: a
/// rollout of a million replicas one pod at a time is one entry, not a million.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wave {
    /// New pods created in each wave.
    pub pods: u32,
    /// When the first wave starts, since the rollout started.
    #[serde(rename = "starts_at_seconds", serialize_with = "as_seconds")]
    pub starts_at: Duration,
    /// When all pods of the first wave are available.
    #[serde(rename = "available_at_seconds", serialize_with = "as_seconds")]
    pub available_at: Duration,
    /// Waves alike (at least 1).
    pub count: u32,
    /// From one wave's start to the next one's (zero for a single wave).
    #[serde(rename = "every_seconds", serialize_with = "as_seconds")]
    pub every: Duration,
}

impl Wave {
    /// A single wave.
    fn once(pods: u32, starts_at: Duration, available_at: Duration) -> Self {
        Wave { pods, starts_at, available_at, count: 1, every: Duration::ZERO }
    }

    /// When the `index`th (0-based) of these waves is available.
    pub fn nth_available_at(&self, index: u32) -> Duration {
        self.available_at.saturating_add(self.every.saturating_mul(index.min(self.count.saturating_sub(1))))
    }

    /// When the last of these waves is available.
    pub fn last_available_at(&self) -> Duration {
        self.nth_available_at(self.count.saturating_sub(1))
    }

    /// New pods in all of these waves.
    fn total_pods(&self) -> u64 {
        u64::from(self.pods) * u64::from(self.count)
    }
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
        let wanted = u64::from(updated_available);
        let mut reached: u64 = 0;
        for wave in self.waves.iter().filter(|wave| wave.pods > 0) {
            if reached + wave.total_pods() >= wanted {
                let index = (wanted - reached).div_ceil(u64::from(wave.pods)) - 1;
                return wave.nth_available_at(u32::try_from(index).unwrap_or(u32::MAX));
            }
            reached += wave.total_pods();
        }
        self.total
    }

    /// Waves in all, counting each of a [`Wave`]'s alike ones.
    pub fn wave_count(&self) -> u64 {
        self.waves.iter().map(|wave| u64::from(wave.count)).sum()
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
        let next_pod_due = if done { self.total } else { self.expected_time_for(updated_available.saturating_add(1)) };
        Pace { expected_total: self.total, elapsed, reached_at: if done { self.total } else { self.expected_time_for(updated_available) }, next_pod_due, done }
    }

    /// The readable breakdown printed by `rollwatch plan`.
    pub fn render_text(&self) -> String {
        let mut text = format!(
            "{}: {}, {} pod(s) to update in {} wave(s), at least {}\n  per pod: ready after {}, available after {}\n",
            self.workload,
            self.strategy,
            self.pods_to_update,
            self.wave_count(),
            seconds(self.total),
            seconds(self.per_pod_ready),
            seconds(self.per_pod_available),
        );
        let mut first: u64 = 1;
        for wave in &self.waves {
            let _ = if wave.count == 1 {
                writeln!(text, "  wave {first}: {} new pod(s) at {}, available at {}", wave.pods, seconds(wave.starts_at), seconds(wave.available_at))
            } else {
                writeln!(
                    text,
                    "  waves {first}-{}: {} new pod(s) each, at {} and every {} after, the last available at {}",
                    first + u64::from(wave.count) - 1,
                    wave.pods,
                    seconds(wave.starts_at),
                    seconds(wave.every),
                    seconds(wave.last_available_at())
                )
            };
            first += u64::from(wave.count);
        }
        text
    }

    /// Advice for `--timeout`: a warning when the timeout is shorter than the minimum.
    pub fn timeout_advice(&self, timeout: Duration) -> Option<String> {
        (timeout < self.total)
            .then(|| format!("{}: timeout {} is shorter than the expected minimum rollout time {}", self.workload, seconds(timeout), seconds(self.total)))
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
        self.slower_from().is_some_and(|from| self.elapsed >= from)
    }

    /// The elapsed time from which this progress is [slower than
    /// expected](Self::slower_than_expected), so a tracker knows when the hint turns without
    /// asking every second; `None` when it never does (all done, or a due time beyond counting).
    pub fn slower_from(&self) -> Option<Duration> {
        let due = Duration::try_from_secs_f64(self.next_pod_due.as_secs_f64() * SLOWER_FACTOR).unwrap_or(Duration::MAX);
        let overdue = due.checked_add(SLOWER_SLACK)?.checked_add(Duration::from_nanos(1))?;
        (!self.done).then_some(overdue)
    }

    /// The same progress `by` later.
    pub fn after(&self, by: Duration) -> Pace {
        Pace { elapsed: self.elapsed.saturating_add(by), ..*self }
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
    let counted = progress.available.saturating_sub(progress.old_pending_termination).clamp(0, progress.updated.max(0));
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
    let kind = workload.get("kind").and_then(Value::as_str).unwrap_or("<no kind>");
    let name = workload.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("<no name>");
    let fields = Fields { object: format!("{kind}/{name}"), root: workload };
    let pod_times = PodTimes::read(&fields, assumptions)?;
    let plan = match registry::of_object(workload).and_then(|row| row.rollout.model) {
        Some(Model::SurgeAndUnavailable) => deployment(&fields, &pod_times, assumptions)?,
        Some(Model::OrderedPods) => stateful_set(&fields, &pod_times, assumptions)?,
        Some(Model::PerNode) => daemon_set(&fields, &pod_times, assumptions)?,
        None => {
            return Err(EstimateError::UnsupportedKind { object: fields.object, kind: kind.to_owned() });
        }
    };
    let total = plan.waves.iter().map(Wave::last_available_at).max().unwrap_or_default();
    let pods_to_update = plan.waves.iter().map(Wave::total_pods).sum::<u64>();
    Ok(Estimate {
        workload: fields.object,
        strategy: plan.strategy,
        pods_to_update: u32::try_from(pods_to_update).unwrap_or(u32::MAX),
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
        EstimateError::InvalidField { object: self.object.clone(), field: pointer.trim_start_matches('/').replace('/', "."), problem: problem.to_owned() }
    }

    fn count_in(&self, value: Option<&Value>, pointer: &str, default: u32) -> Result<u32, EstimateError> {
        match value {
            None | Some(Value::Null) => Ok(default),
            Some(value) => {
                let number = value.as_u64().ok_or_else(|| self.invalid(pointer, "expected a non-negative integer"))?;
                u32::try_from(number)
                    .ok()
                    .filter(|number| *number <= INT32_MAX)
                    .ok_or_else(|| self.invalid(pointer, &format!("{number} is out of range: at most {INT32_MAX} (an int32, as the API server requires)")))
            }
        }
    }

    fn count(&self, pointer: &str, default: u32) -> Result<u32, EstimateError> {
        self.count_in(self.root.pointer(pointer), pointer, default)
    }

    fn text(&self, pointer: &str) -> Result<Option<&str>, EstimateError> {
        match self.root.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value.as_str().map(Some).ok_or_else(|| self.invalid(pointer, "expected a string")),
        }
    }

    /// An int-or-percent field scaled against `total` like `intstr.GetScaledValueFromIntOrPercent`,
    /// at most [`INT32_MAX`] as the controllers' int32 fields hold it (a surge may exceed 100%).
    fn scaled(&self, pointer: &str, default: Value, total: u32, round_up: bool) -> Result<u32, EstimateError> {
        let value = self.root.pointer(pointer).filter(|value| !value.is_null()).unwrap_or(&default);
        let Value::String(percent) = value else {
            return self.count_in(Some(value), pointer, 0);
        };
        let digits = percent
            .strip_suffix('%')
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or_else(|| self.invalid(pointer, "expected an integer or a percentage like \"25%\""))?;
        let scaled = u128::from(digits) * u128::from(total);
        let rounded = if round_up { scaled.div_ceil(100) } else { scaled / 100 };
        Ok(u32::try_from(rounded).map_or(INT32_MAX, |pods| pods.min(INT32_MAX)))
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
        for (index, container) in fields.root.pointer(containers).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let base = format!("{containers}/{index}");
            let probe = |name: &str, field: &str, default: u32| {
                let pointer = format!("{base}/{name}/{field}");
                fields.count_in(container.pointer(&format!("/{name}/{field}")), &pointer, default)
            };
            let declared = |name: &str| container.get(name).is_some_and(|probe| !probe.is_null());
            let startup_delay = if declared("startupProbe") { probe("startupProbe", "initialDelaySeconds", 0)? } else { 0 };
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
        let ready = assumptions.pod_start.saturating_add(slowest);
        // Available `minReadySeconds` after Ready: the ReplicaSet and DaemonSet controllers re-sync
        // that long after the status update that saw the pods Ready (while pods are ready but not
        // yet available), and the Ready condition's lastTransitionTime is truncated to the second,
        // so by then the pods count as available. (Their other re-check, `minReadySeconds + 1 s`
        // after a pod turns Ready, comes later.)
        Ok(Self { ready, available: ready.saturating_add(secs(fields.count("/spec/minReadySeconds", 0)?)) })
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
    // In u64, int32 inputs cannot overflow: at most 2^31 × 2^32 seconds.
    let period = u64::from(probe.period.max(1));
    let first_counted_run = u64::from(startup_delay.saturating_sub(probe.initial_delay)).div_ceil(period);
    let runs_until_ready = first_counted_run + u64::from(probe.success_threshold.max(1)) - 1;
    Duration::from_secs(period.saturating_mul(runs_until_ready).saturating_add(u64::from(probe.initial_delay)))
}

/// The largest count, period or threshold the API server accepts: they are int32 fields.
pub const INT32_MAX: u32 = i32::MAX as u32;

fn secs(seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds))
}

fn deployment(fields: &Fields, pod: &PodTimes, assumptions: &Assumptions) -> Result<Plan, EstimateError> {
    let replicas = fields.count("/spec/replicas", 1)?;
    match fields.text("/spec/strategy/type")?.unwrap_or("RollingUpdate") {
        "Recreate" => Ok(Plan { strategy: "Recreate".to_owned(), waves: one_at_a_time(replicas, replicas, pod, assumptions.pod_termination) }),
        "RollingUpdate" => {
            let surge = fields.scaled("/spec/strategy/rollingUpdate/maxSurge", "25%".into(), replicas, true)?;
            let mut unavailable = fields.scaled("/spec/strategy/rollingUpdate/maxUnavailable", "25%".into(), replicas, false)?;
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

/// The deployment controller's waves (see the module docs): `surge + unavailable` new pods each
/// time the previous ones are available; all at once when pods are available at once.
fn rolling_update(replicas: u32, surge: u32, unavailable: u32, pod_available: Duration) -> Vec<Wave> {
    if pod_available.is_zero() {
        // Every scaling step of the loop happens at the same moment: one wave.
        return (replicas > 0).then(|| Wave::once(replicas, Duration::ZERO, Duration::ZERO)).into_iter().collect();
    }
    alike_waves(replicas, surge.saturating_add(unavailable), Duration::ZERO, pod_available, pod_available)
}

/// `pods` new pods in waves of `per_wave` (the last may be smaller), the first starting at
/// `first_start` and each next one `every` later, each available `available_after` its start.
fn alike_waves(pods: u32, per_wave: u32, first_start: Duration, every: Duration, available_after: Duration) -> Vec<Wave> {
    let per_wave = per_wave.max(1);
    let (full, rest) = (pods / per_wave, pods % per_wave);
    // Exactly as long as it gets: a tracker keeps one per tracked rollout.
    let mut waves = Vec::with_capacity(usize::from(full > 0) + usize::from(rest > 0));
    if full > 0 {
        waves.push(Wave {
            pods: per_wave,
            starts_at: first_start,
            available_at: first_start.saturating_add(available_after),
            count: full,
            every: if full > 1 { every } else { Duration::ZERO },
        });
    }
    if rest > 0 {
        let starts_at = first_start.saturating_add(every.saturating_mul(full));
        waves.push(Wave::once(rest, starts_at, starts_at.saturating_add(available_after)));
    }
    waves
}

/// Waves of `pods_per_wave` (the last may be smaller) replacing `pods` pods, one after another:
/// each deletes old pods, waits `termination`, then waits for the new ones to be available.
fn one_at_a_time(pods: u32, pods_per_wave: u32, pod: &PodTimes, termination: Duration) -> Vec<Wave> {
    alike_waves(pods, pods_per_wave, termination, termination.saturating_add(pod.available), pod.available)
}

fn stateful_set(fields: &Fields, pod: &PodTimes, assumptions: &Assumptions) -> Result<Plan, EstimateError> {
    let replicas = fields.count("/spec/replicas", 1)?;
    let management = fields.text("/spec/podManagementPolicy")?.unwrap_or("OrderedReady");
    if !matches!(management, "OrderedReady" | "Parallel") {
        return Err(fields.invalid("/spec/podManagementPolicy", "expected OrderedReady or Parallel"));
    }
    require_rolling_update(fields)?;
    {
        let partition = fields.count("/spec/updateStrategy/rollingUpdate/partition", 0)?;
        Ok(Plan {
            strategy: format!("RollingUpdate {management} partition={partition}, one pod at a time"),
            waves: one_at_a_time(replicas.saturating_sub(partition), 1, pod, assumptions.pod_termination),
        })
    }
}

fn daemon_set(fields: &Fields, pod: &PodTimes, assumptions: &Assumptions) -> Result<Plan, EstimateError> {
    let nodes = assumptions.nodes.ok_or_else(|| EstimateError::NodeCountMissing { object: fields.object.clone() })?;
    require_rolling_update(fields)?;
    {
        let pointer = "/spec/updateStrategy/rollingUpdate/maxUnavailable";
        let unavailable = fields.scaled(pointer, 1.into(), nodes, true)?;
        if unavailable == 0 && nodes > 0 {
            return Err(fields.invalid(pointer, "must be at least 1 (maxSurge is not supported on v1.20)"));
        }
        Ok(Plan {
            strategy: format!("RollingUpdate maxUnavailable={unavailable} of {nodes} node(s)"),
            waves: one_at_a_time(nodes, unavailable, pod, assumptions.pod_termination),
        })
    }
}

/// StatefulSets and DaemonSets share `updateStrategy`: only `RollingUpdate` has a duration.
fn require_rolling_update(fields: &Fields) -> Result<(), EstimateError> {
    match fields.text("/spec/updateStrategy/type")?.unwrap_or("RollingUpdate") {
        "RollingUpdate" => Ok(()),
        "OnDelete" => Err(EstimateError::OnDelete { object: fields.object.clone() }),
        _ => Err(fields.invalid("/spec/updateStrategy/type", "expected RollingUpdate or OnDelete")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The deployment controller's loop replayed sync by sync, as `rolling.go` scales: the
    /// oracle that the waves computed directly must match.
    fn replayed_waves(replicas: u32, surge: u32, unavailable: u32, pod_available: Duration) -> Vec<(u32, Duration)> {
        let (mut old, mut new_total, mut new_available) = (replicas, 0, 0);
        let mut pending: Vec<(Duration, u32)> = Vec::new();
        let mut waves: Vec<(u32, Duration)> = Vec::new();
        let mut now = Duration::ZERO;
        let min_available = replicas.saturating_sub(unavailable);
        loop {
            loop {
                let scale_up = (replicas + surge).saturating_sub(old + new_total).min(replicas - new_total);
                if scale_up > 0 {
                    new_total += scale_up;
                    pending.push((now + pod_available, scale_up));
                    match waves.last_mut() {
                        Some((pods, starts_at)) if *starts_at == now => *pods += scale_up,
                        _ => waves.push((scale_up, now)),
                    }
                }
                let scale_down = (old + new_available).saturating_sub(min_available).min(old);
                old -= scale_down;
                if scale_up == 0 && scale_down == 0 {
                    break;
                }
            }
            let Some(next) = pending.iter().map(|(at, _)| *at).min() else {
                break;
            };
            now = next;
            new_available += pending.iter().filter(|(at, _)| *at == next).map(|(_, pods)| pods).sum::<u32>();
            pending.retain(|(at, _)| *at != next);
        }
        waves
    }

    fn expanded(waves: &[Wave]) -> Vec<(u32, Duration)> {
        waves.iter().flat_map(|wave| (0..wave.count).map(move |index| (wave.pods, wave.starts_at + wave.every * index))).collect()
    }

    #[test]
    fn the_waves_computed_directly_are_the_controllers_loop() {
        for pod_available in [Duration::ZERO, Duration::from_secs(7)] {
            for replicas in 0..=13 {
                for surge in 0..=4 {
                    for unavailable in 0..=4 {
                        // The fenceposts, as `deployment` resolves them.
                        let unavailable = if surge == 0 && unavailable == 0 { 1 } else { unavailable }.min(replicas);
                        let computed = rolling_update(replicas, surge, unavailable, pod_available);
                        assert_eq!(
                            expanded(&computed),
                            replayed_waves(replicas, surge, unavailable, pod_available),
                            "{replicas} replicas, surge {surge}, unavailable {unavailable}, pods available after {pod_available:?}"
                        );
                        assert!(computed.len() <= 2);
                    }
                }
            }
        }
    }

    fn deployment(replicas: Value, rolling_update: Value, readiness_probe: Value) -> Value {
        json!({
            "kind": "Deployment", "metadata": {"name": "huge"},
            "spec": {
                "replicas": replicas,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": rolling_update},
                "template": {"spec": {"containers": [{"name": "app", "readinessProbe": readiness_probe}]}}
            }
        })
    }

    #[test]
    fn two_billion_replicas_one_at_a_time_are_two_waves_not_two_billion() {
        let manifest = deployment(json!(INT32_MAX), json!({"maxSurge": 0, "maxUnavailable": 1}), Value::Null);
        let estimate = estimate(&manifest, &Assumptions::default()).unwrap();
        assert_eq!(
            estimate.waves,
            vec![Wave { pods: 1, starts_at: Duration::ZERO, available_at: Duration::from_secs(1), count: INT32_MAX, every: Duration::from_secs(1) }]
        );
        assert_eq!(estimate.wave_count(), u64::from(INT32_MAX));
        assert_eq!(estimate.total, Duration::from_secs(u64::from(INT32_MAX)));
        assert_eq!(estimate.pods_to_update, INT32_MAX);
        // Halfway through, the model is halfway through too.
        assert_eq!(estimate.expected_time_for(1 << 30), Duration::from_secs(1 << 30));
        assert!(estimate.render_text().contains("  waves 1-2147483647: 1 new pod(s) each, at 0s and every 1s after, the last available at 2147483647s\n"));
    }

    #[test]
    fn probe_periods_and_thresholds_at_the_int32_limit_do_not_overflow() {
        let probe = json!({"initialDelaySeconds": INT32_MAX, "periodSeconds": INT32_MAX, "successThreshold": INT32_MAX});
        let mut manifest = deployment(json!(INT32_MAX), json!({"maxSurge": "100%", "maxUnavailable": "100%"}), probe);
        manifest["spec"]["minReadySeconds"] = json!(INT32_MAX);
        manifest["spec"]["template"]["spec"]["containers"][0]["startupProbe"] = json!({"initialDelaySeconds": INT32_MAX});
        let assumptions = Assumptions { pod_start: Duration::MAX, ..Assumptions::default() };
        let estimate = estimate(&manifest, &assumptions).unwrap();
        assert_eq!(estimate.per_pod_available, Duration::MAX);
        assert_eq!(estimate.total, Duration::MAX);
        let pace = estimate.pace(Duration::MAX, 0).after(Duration::MAX);
        assert!(!pace.slower_than_expected());
        assert_eq!(pace.remaining(), Duration::ZERO);
        // Without the assumed start, the probe arithmetic alone stays exact: the readiness probe
        // runs from INT32_MAX s on, every INT32_MAX s, INT32_MAX times in a row.
        let exact = super::estimate(&manifest, &Assumptions { pod_start: Duration::ZERO, ..Assumptions::default() }).unwrap();
        let max = u64::from(INT32_MAX);
        assert_eq!(exact.per_pod_ready, Duration::from_secs(max + max * (max - 1)));
    }

    #[test]
    fn values_beyond_int32_are_refused_naming_the_field() {
        let too_big = u64::from(INT32_MAX) + 1;
        let cases = [
            (deployment(json!(too_big), Value::Null, Value::Null), "spec.replicas"),
            (deployment(json!(u64::from(u32::MAX)), Value::Null, Value::Null), "spec.replicas"),
            (deployment(json!(3), json!({"maxSurge": too_big}), Value::Null), "spec.strategy.rollingUpdate.maxSurge"),
            (deployment(json!(3), Value::Null, json!({"periodSeconds": too_big})), "spec.template.spec.containers.0.readinessProbe.periodSeconds"),
        ];
        for (manifest, field) in cases {
            let error = estimate(&manifest, &Assumptions::default()).unwrap_err();
            assert!(matches!(&error, EstimateError::InvalidField { field: named, .. } if named == field), "{error}");
            assert!(error.to_string().contains("out of range: at most 2147483647"), "{error}");
        }
    }

    #[test]
    fn huge_percentages_are_clamped_to_int32_as_the_controller_holds_them() {
        let manifest = deployment(json!(INT32_MAX), json!({"maxSurge": "18446744073709551615%", "maxUnavailable": 0}), Value::Null);
        let estimate = estimate(&manifest, &Assumptions::default()).unwrap();
        assert_eq!(estimate.strategy, format!("RollingUpdate maxSurge={INT32_MAX} maxUnavailable=0"));
        assert_eq!(estimate.wave_count(), 1);
    }

    #[test]
    fn updated_available_pods_from_hostile_figures_do_not_overflow() {
        let progress = Progress { desired: 1, updated: i64::MAX, ready: 0, available: i64::MIN, old_pending_termination: i64::MAX };
        assert_eq!(updated_available(&progress), 0);
        let progress = Progress { available: i64::MAX, old_pending_termination: i64::MIN, ..progress };
        assert_eq!(updated_available(&progress), u32::MAX);
    }
}
