//! The kubelet's pod lifecycle as a pure state machine: image pulls and their
//! back-off, container creation (with the config check the driver performs),
//! init containers in order, probes, exits, restarts with CrashLoopBackOff and
//! the restart policy. No I/O and no clock: the driver passes `now`, performs
//! the returned [`Effect`]s, writes [`PodMachine::runtime`]'s status and sleeps
//! until [`PodMachine::next_wake`]. Transitions are stamped with the time they
//! were due, so a driver that falls behind still reports consistent times.

use crate::behavior::{self, Behavior, Kind};
use crate::events::Type;
use crate::probe::Probe;
use crate::status::{ContainerRuntime, PodRuntime, State};
use jiff::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

/// How long the kubelet takes to notice a change and act on it (PLEG relist, pod sync).
/// Every restart and retry waits at least this long, which also keeps the machine
/// from looping on zero durations.
pub const SYNC: Duration = Duration::from_secs(1);
/// How soon a pod worker retries a failed sync, e.g. after CreateContainerConfigError.
pub const RETRY: Duration = Duration::from_secs(10);
/// How long a failed sync leaves its status standing: the kubelet's pod worker retries a sync
/// that failed (a container in back-off, a failed pull) after 10 s plus up to 50 % jitter, and
/// only that next sync reports the back-off. A real kubelet v1.20 showed a crashed container as
/// `terminated` (restart count already raised), and `ErrImagePull`, for 11-14 s before
/// `CrashLoopBackOff` / `ImagePullBackOff`. The simulator waits this long, or the back-off
/// itself when that is shorter (a behaviour's `backoff=1s` keeps a test fast).
pub const ERROR_REQUEUE: Duration = Duration::from_secs(12);
/// How long an init container runs when its behaviour names no exit.
pub const INIT_RUN: Duration = Duration::from_secs(1);
/// Exit code of a container killed with SIGKILL (OOM kill, or a stop that outlasts the grace period).
pub const KILLED: i32 = 137;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

/// One container as the kubelet sees it: spec plus its simulated behaviour.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// The parsed behaviour, or why the annotation is invalid (reported as CreateContainerError).
    pub behavior: Result<Behavior, String>,
    /// imagePullPolicy Always: every start pulls; otherwise only the first one does.
    pub pull_always: bool,
    /// Its env or envFrom references a ConfigMap or Secret, so creation needs a config check.
    pub needs_config: bool,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub startup: Option<Probe>,
    /// First restart back-off (the behaviour's `backoff=` or the simulator's default).
    pub backoff: Duration,
}

impl ContainerSpec {
    fn kind(&self) -> Kind {
        self.behavior.as_ref().map_or(Kind::Ready, |b| b.kind.clone())
    }

    fn option<T>(&self, pick: impl Fn(&Behavior) -> T, default: T) -> T {
        self.behavior.as_ref().map_or(default, pick)
    }
}

#[derive(Debug, Clone)]
pub struct PodSpec {
    /// `name_namespace(uid)`, as the kubelet names the pod in messages.
    pub pod_ref: String,
    pub restart_policy: RestartPolicy,
    pub init: Vec<ContainerSpec>,
    pub app: Vec<ContainerSpec>,
    /// The grace period a stop may take before SIGKILL.
    pub grace: Duration,
}

/// Something the driver must do for the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Event {
        container: String,
        kind: Type,
        reason: &'static str,
        message: String,
    },
    Log {
        container: String,
        line: String,
    },
    /// A new instance of the container starts: its old log becomes `--previous`.
    NewInstance {
        container: String,
    },
}

/// Results of the config check, by container name: `Err` holds the kubelet's message.
pub type ConfigResults = HashMap<String, Result<(), String>>;

#[derive(Debug, Clone, PartialEq)]
struct Exit {
    code: i32,
    reason: &'static str,
    line: String,
}

impl Exit {
    fn with_code(code: i32) -> Exit {
        let line = if code == 0 { "done, exiting with code 0".to_owned() } else { format!("error: exiting with code {code}") };
        Exit { code, reason: if code == 0 { "Completed" } else { "Error" }, line }
    }
}

/// Probe clock: the next tick and a run of consecutive results.
#[derive(Debug, Clone, PartialEq)]
struct Tick {
    next: Timestamp,
    run: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct Run {
    started_at: Timestamp,
    exit: Option<(Timestamp, Exit)>,
    /// Next startup probe, until it passes.
    startup: Option<Tick>,
    /// Readiness probing, while it can still change something.
    readiness: Option<Tick>,
    /// Liveness probing; scheduled only when the behaviour makes it fail.
    liveness: Option<Tick>,
}

impl Run {
    fn next(&self) -> Option<Timestamp> {
        [
            self.exit.as_ref().map(|e| e.0),
            self.startup.as_ref().map(|t| t.next),
            self.readiness.as_ref().map(|t| t.next),
            self.liveness.as_ref().map(|t| t.next),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Waits for something else (earlier init containers), or is stuck for good.
    Idle,
    /// Ensure the image: pull it, or note it is already present.
    StartPull,
    PullDone {
        began: Timestamp,
    },
    /// The sync after a failed pull: ErrImagePull turns into ImagePullBackOff.
    PullBackOff {
        failed_at: Timestamp,
    },
    /// The sync after a crash in back-off: `terminated` turns into CrashLoopBackOff, and the
    /// container restarts at `restart_at`.
    CrashBackOff {
        restart_at: Timestamp,
        message: String,
    },
    /// Create (after the config check) and start the container.
    Create,
    Running(Run),
    /// Being stopped after a failed liveness probe; stopped at `at`.
    Stopping {
        exit: Exit,
    },
}

#[derive(Debug, Clone)]
struct Slot {
    spec: ContainerSpec,
    step: Step,
    /// When `step` is due; `None` while idle.
    at: Option<Timestamp>,
    pull_failures: u32,
    /// A `Create` is due but the driver has not supplied the config check yet.
    awaiting_config: bool,
    /// An instance has run before, so the next start is a restart.
    has_run: bool,
}

/// A pod's containers and where each is in its lifecycle.
#[derive(Debug, Clone)]
pub struct PodMachine {
    spec: PodSpec,
    slots: Vec<Slot>,
    /// What the status reports; the driver writes `runtime.status(now)`.
    pub runtime: PodRuntime,
    stopped: bool,
}

impl PodMachine {
    /// A pod the kubelet has just admitted at `now`: its first init container
    /// (or all app containers) start pulling at once.
    pub fn new(spec: PodSpec, pod_ip: String, now: Timestamp) -> PodMachine {
        let has_init = !spec.init.is_empty();
        // The kubelet's default waiting state for a container the runtime has not run yet:
        // PodInitializing for every container of a pod with init containers (a real node shows
        // the first init container so while it is created), else ContainerCreating.
        let runtime_of = |c: &ContainerSpec| {
            let mut r = ContainerRuntime::new(&c.name, &c.image);
            if has_init {
                r.state = State::waiting("PodInitializing", None);
            }
            r
        };
        let init = spec.init.iter().map(runtime_of).collect();
        let app = spec.app.iter().map(runtime_of).collect();
        let slot = |c: &ContainerSpec, start: bool| Slot {
            spec: c.clone(),
            step: if start { Step::StartPull } else { Step::Idle },
            at: start.then_some(now),
            pull_failures: 0,
            awaiting_config: false,
            has_run: false,
        };
        let mut slots: Vec<Slot> = spec.init.iter().enumerate().map(|(i, c)| slot(c, i == 0)).collect();
        slots.extend(spec.app.iter().map(|c| slot(c, !has_init)));
        PodMachine { runtime: PodRuntime::new(init, app, pod_ip, now), spec, slots, stopped: false }
    }

    /// When the machine next has something to do, if ever.
    pub fn next_wake(&self) -> Option<Timestamp> {
        self.slots.iter().filter(|s| !s.awaiting_config).filter_map(|s| s.at).min()
    }

    /// Containers due to be created that need the config check first.
    pub fn pending_config(&self) -> Vec<String> {
        self.slots.iter().filter(|s| s.awaiting_config).map(|s| s.spec.name.clone()).collect()
    }

    /// Runs every transition due by `now`, in time order. A `Create` that needs
    /// the config check waits (see [`Self::pending_config`]) until `config` has
    /// the container's result.
    pub fn advance(&mut self, now: Timestamp, config: &ConfigResults) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.stopped {
            return effects;
        }
        for slot in &mut self.slots {
            if slot.awaiting_config && config.contains_key(&slot.spec.name) {
                slot.awaiting_config = false;
            }
        }
        while let Some((index, at)) = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.awaiting_config)
            .filter_map(|(i, s)| s.at.filter(|at| *at <= now).map(|at| (i, at)))
            .min_by_key(|(_, at)| *at)
        {
            self.fire(index, at, now, config, &mut effects);
        }
        effects
    }

    /// The pod is being deleted: stop every running container. Returns the
    /// Killing events and how long the stop takes (the longest `term`, capped by `grace`).
    pub fn terminate(&mut self, grace: Duration) -> (Vec<Effect>, Duration) {
        let mut effects = Vec::new();
        let mut wait = Duration::ZERO;
        for slot in &mut self.slots {
            if matches!(slot.step, Step::Running(_) | Step::Stopping { .. }) {
                let term = slot.spec.option(|b| b.term, Duration::ZERO);
                wait = wait.max(term.min(grace));
                effects.push(event(&slot.spec.name, Type::Normal, "Killing", format!("Stopping container {}", slot.spec.name)));
            }
            slot.step = Step::Idle;
            slot.at = None;
            slot.awaiting_config = false;
        }
        self.stopped = true;
        (effects, wait)
    }

    fn container(&mut self, index: usize) -> &mut ContainerRuntime {
        let init = self.runtime.init.len();
        if index < init { &mut self.runtime.init[index] } else { &mut self.runtime.app[index - init] }
    }

    fn is_init(&self, index: usize) -> bool {
        index < self.spec.init.len()
    }

    fn set(&mut self, index: usize, step: Step, at: Option<Timestamp>) {
        self.slots[index].step = step;
        self.slots[index].at = at;
    }

    fn fire(&mut self, index: usize, at: Timestamp, now: Timestamp, config: &ConfigResults, effects: &mut Vec<Effect>) {
        let spec = self.slots[index].spec.clone();
        let name = spec.name.as_str();
        match self.slots[index].step.clone() {
            Step::Idle => self.slots[index].at = None,
            Step::StartPull => {
                if let Some((reason, message)) = behavior::pull_failure(&spec.image).filter(|(r, _)| *r == "InvalidImageName") {
                    effects.push(event(name, Type::Warning, "InspectFailed", message.clone()));
                    effects.push(event(name, Type::Warning, "Failed", format!("Error: {reason}")));
                    self.container(index).state = State::waiting(reason, Some(message));
                    self.set(index, Step::Idle, None);
                } else if self.container(index).image_id.is_some() && !spec.pull_always {
                    effects.push(event(name, Type::Normal, "Pulled", format!("Container image \"{}\" already present on machine", spec.image)));
                    self.set(index, Step::Create, Some(at));
                } else {
                    effects.push(event(name, Type::Normal, "Pulling", format!("Pulling image \"{}\"", spec.image)));
                    let pull = spec.option(|b| b.pull, Duration::from_millis(300));
                    self.set(index, Step::PullDone { began: at }, Some(at + pull));
                }
            }
            Step::PullDone { began } => {
                let failure = match behavior::pull_failure(&spec.image) {
                    Some((_, message)) => Some(message),
                    None => (spec.kind() == Kind::PullFail).then(|| behavior::not_found_message(&spec.image)),
                };
                match failure {
                    Some(message) => {
                        self.slots[index].pull_failures += 1;
                        effects.push(event(name, Type::Warning, "Failed", format!("Failed to pull image \"{}\": {message}", spec.image)));
                        effects.push(event(name, Type::Warning, "Failed", "Error: ErrImagePull".to_owned()));
                        self.container(index).state = State::waiting("ErrImagePull", Some(message));
                        let delay = behavior::backoff(spec.backoff, self.slots[index].pull_failures - 1).max(SYNC);
                        self.set(index, Step::PullBackOff { failed_at: at }, Some(at + ERROR_REQUEUE.min(delay)));
                    }
                    None => {
                        let took = go_duration(at.duration_since(began).unsigned_abs());
                        effects.push(event(name, Type::Normal, "Pulled", format!("Successfully pulled image \"{}\" in {took}", spec.image)));
                        self.container(index).image_id = Some(image_id(&spec.image));
                        self.set(index, Step::Create, Some(at));
                    }
                }
            }
            Step::PullBackOff { failed_at } => {
                let message = format!("Back-off pulling image \"{}\"", spec.image);
                effects.push(event(name, Type::Normal, "BackOff", message.clone()));
                effects.push(event(name, Type::Warning, "Failed", "Error: ImagePullBackOff".to_owned()));
                self.container(index).state = State::waiting("ImagePullBackOff", Some(message));
                let delay = behavior::backoff(spec.backoff, self.slots[index].pull_failures - 1).max(SYNC);
                self.set(index, Step::StartPull, Some((failed_at + delay).max(at + SYNC)));
            }
            Step::CrashBackOff { restart_at, message } => {
                let container = self.container(index);
                container.last_state = Some(container.state.clone());
                container.state = State::waiting("CrashLoopBackOff", Some(message));
                self.set(index, Step::StartPull, Some(restart_at));
            }
            Step::Create => self.create(index, at, config, effects),
            Step::Running(run) => self.on_running(index, run, at, now, effects),
            Step::Stopping { exit } => self.exit(index, at, exit, effects),
        }
    }

    fn create(&mut self, index: usize, at: Timestamp, config: &ConfigResults, effects: &mut Vec<Effect>) {
        let spec = self.slots[index].spec.clone();
        let name = spec.name.as_str();
        let behavior = match &spec.behavior {
            Ok(b) => b.clone(),
            Err(message) => {
                effects.push(event(name, Type::Warning, "Failed", format!("Error: {message}")));
                self.container(index).state = State::waiting("CreateContainerError", Some(message.clone()));
                self.set(index, Step::Idle, None);
                return;
            }
        };
        if spec.needs_config {
            match config.get(name) {
                None => {
                    self.slots[index].awaiting_config = true;
                    return;
                }
                Some(Err(message)) => {
                    effects.push(event(name, Type::Warning, "Failed", format!("Error: {message}")));
                    self.container(index).state = State::waiting("CreateContainerConfigError", Some(message.clone()));
                    self.set(index, Step::StartPull, Some(at + RETRY));
                    return;
                }
                Some(Ok(())) => {}
            }
        }
        let restart = self.slots[index].has_run;
        self.slots[index].has_run = true;
        let is_init = self.is_init(index);
        let container = self.container(index);
        if restart {
            container.restart_count += 1;
        }
        if let previous @ State::Terminated { .. } = std::mem::replace(&mut container.state, State::Running { started_at: at }) {
            container.last_state = Some(previous);
        }
        container.container_id = Some(format!("sim://{:x}", at.as_nanosecond()));
        container.ready = false;
        container.started = spec.startup.is_none();
        if restart {
            effects.push(Effect::NewInstance { container: spec.name.clone() });
        }
        effects.push(event(name, Type::Normal, "Created", format!("Created container {name}")));
        effects.push(event(name, Type::Normal, "Started", format!("Started container {name}")));
        effects.push(Effect::Log { container: spec.name.clone(), line: format!("{name} started (image {})", spec.image) });
        if let Some(line) = &behavior.log {
            effects.push(Effect::Log { container: spec.name.clone(), line: line.clone() });
        }
        let exit = match behavior.kind {
            Kind::Crash { exit, after } => Some((at + after, Exit::with_code(exit))),
            Kind::Exit { code, after } => Some((at + after, Exit::with_code(code))),
            Kind::Oom { after } => {
                Some((at + after, Exit { code: KILLED, reason: "OOMKilled", line: format!("fatal: out of memory, killed with exit code {KILLED}") }))
            }
            _ if is_init => Some((at + INIT_RUN, Exit::with_code(0))),
            _ => None,
        };
        let probe_tick = |p: &Probe| Tick { next: at + p.initial_delay, run: 0 };
        let liveness = match (&spec.liveness, &behavior.kind) {
            (Some(probe), Kind::LivenessFail { after }) => {
                Some(Tick { next: first_tick_at_or_after(at + probe.initial_delay, probe.period, at + *after), run: 0 })
            }
            _ => None,
        };
        let mut run =
            Run { started_at: at, exit, startup: spec.startup.as_ref().map(probe_tick), readiness: spec.readiness.as_ref().map(probe_tick), liveness };
        if is_init {
            (run.startup, run.readiness, run.liveness) = (None, None, None);
            self.container(index).started = true;
        } else if run.startup.is_none() {
            self.on_started(index, &mut run);
        }
        // Anything due at `at` itself (a probe without delay) runs in this same advance.
        let next = run.next();
        self.set(index, Step::Running(run), next);
    }

    /// The container counts as started (no startup probe, or it passed).
    fn on_started(&mut self, index: usize, run: &mut Run) {
        let container = self.container(index);
        container.started = true;
        if run.readiness.is_none() {
            container.ready = true;
        }
    }

    fn on_running(&mut self, index: usize, mut run: Run, at: Timestamp, now: Timestamp, effects: &mut Vec<Effect>) {
        let spec = self.slots[index].spec.clone();
        let name = spec.name.as_str();
        if let Some((_, exit)) = run.exit.clone().filter(|(when, _)| *when == at) {
            self.exit(index, at, exit, effects);
            return;
        }
        if run.startup.as_ref().is_some_and(|tick| tick.next == at) {
            // Every behaviour passes its startup probe (successThreshold is 1 for startup probes).
            run.startup = None;
            self.on_started(index, &mut run);
        }
        let started = self.container(index).started;
        if let (Some(mut tick), Some(probe)) = (run.readiness.clone(), &spec.readiness)
            && tick.next == at
        {
            let mut keep_probing = true;
            if started {
                if spec.kind() == Kind::NeverReady {
                    let output = probe.failure_output(&self.runtime.pod_ip);
                    effects.push(event(name, Type::Warning, "Unhealthy", format!("Readiness probe failed: {output}")));
                } else {
                    tick.run += 1;
                    if tick.run >= probe.success_threshold {
                        self.container(index).ready = true;
                        // A passing probe changes nothing more: stop ticking.
                        keep_probing = false;
                    }
                }
            }
            tick.next = following_tick(at, probe.period, now);
            run.readiness = keep_probing.then_some(tick);
        }
        if let (Some(mut tick), Some(probe)) = (run.liveness.clone(), &spec.liveness)
            && tick.next == at
        {
            if started {
                tick.run += 1;
                let output = probe.failure_output(&self.runtime.pod_ip);
                effects.push(event(name, Type::Warning, "Unhealthy", format!("Liveness probe failed: {output}")));
                if tick.run >= probe.failure_threshold {
                    effects.push(event(name, Type::Normal, "Killing", format!("Container {name} failed liveness probe, will be restarted")));
                    let term = spec.option(|b| b.term, Duration::ZERO);
                    let exit = Exit { code: KILLED, reason: "Error", line: "received SIGTERM after a failed liveness probe".to_owned() };
                    let stop = if term > self.spec.grace { self.spec.grace } else { term };
                    self.set(index, Step::Stopping { exit }, Some(at + stop));
                    return;
                }
            }
            tick.next = following_tick(at, probe.period, now);
            run.liveness = Some(tick);
        }
        let next = run.next();
        self.set(index, Step::Running(run), next);
    }

    /// The container's process ended at `at`: report it, then restart it or not as the policy says.
    fn exit(&mut self, index: usize, at: Timestamp, exit: Exit, effects: &mut Vec<Effect>) {
        let spec = self.slots[index].spec.clone();
        let is_init = self.is_init(index);
        effects.push(Effect::Log { container: spec.name.clone(), line: exit.line.clone() });
        let container = self.container(index);
        let started_at = match container.state {
            State::Running { started_at } => started_at,
            _ => at,
        };
        container.state = State::Terminated { exit_code: exit.code, reason: exit.reason.to_owned(), started_at, finished_at: at };
        container.ready = is_init && exit.code == 0;
        container.started = false;
        let restart_count = container.restart_count;
        let restarts = match (self.spec.restart_policy, exit.code) {
            // A completed init container is done whatever the policy.
            (_, 0) if is_init => false,
            (RestartPolicy::Always, _) => true,
            (RestartPolicy::OnFailure, code) => code != 0,
            (RestartPolicy::Never, _) => false,
        };
        if !restarts {
            self.container(index).finished = true;
            self.set(index, Step::Idle, None);
            if is_init && exit.code == 0 {
                self.start_next_after_init(index, at);
            }
            return;
        }
        if restart_count == 0 {
            // The kubelet restarts a container the first time without back-off.
            self.set(index, Step::StartPull, Some(at + SYNC));
            return;
        }
        // The sync right after the crash finds the container in back-off (its event); the status
        // says so only at the sync after that.
        let delay = behavior::backoff(spec.backoff, restart_count - 1).max(SYNC);
        let message = format!("back-off {} restarting failed container={} pod={}", go_duration(delay), spec.name, self.spec.pod_ref);
        effects.push(event(&spec.name, Type::Warning, "BackOff", "Back-off restarting failed container".to_owned()));
        let reported_at = at + ERROR_REQUEUE.min(delay);
        self.set(index, Step::CrashBackOff { restart_at: (at + delay).max(reported_at + SYNC), message }, Some(reported_at));
    }

    fn start_next_after_init(&mut self, index: usize, at: Timestamp) {
        let init = self.spec.init.len();
        let next: Vec<usize> = if index + 1 < init { vec![index + 1] } else { (init..self.slots.len()).collect() };
        for i in next {
            self.container(i).state = State::waiting("PodInitializing", None);
            self.set(i, Step::StartPull, Some(at));
        }
    }
}

fn event(container: &str, kind: Type, reason: &'static str, message: String) -> Effect {
    Effect::Event { container: container.to_owned(), kind, reason, message }
}

/// A stable, image-specific ID, as a runtime reports once the image is on the node.
fn image_id(image: &str) -> String {
    let hash = image.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("sim://{image}@sha256:{hash:016x}")
}

/// The first tick of the series `first, first + period, ...` at or after `not_before`.
fn first_tick_at_or_after(first: Timestamp, period: Duration, not_before: Timestamp) -> Timestamp {
    if first >= not_before {
        return first;
    }
    let behind = not_before.duration_since(first).unsigned_abs();
    let periods = behind.as_nanos().div_ceil(period.as_nanos().max(1));
    first + period * u32::try_from(periods).unwrap_or(u32::MAX)
}

/// The tick after `at`; when the driver fell behind, missed ticks are skipped
/// (one late probe, not a burst of them), as the kubelet's ticker does.
fn following_tick(at: Timestamp, period: Duration, now: Timestamp) -> Timestamp {
    let next = at + period;
    if next > now { next } else { first_tick_at_or_after(next, period, now) }
}

/// Go's `time.Duration` text, which kubelet messages use: `300ms`, `1.5s`, `2m30s`.
pub fn go_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_owned();
    }
    if d < Duration::from_secs(1) {
        let ms = d.as_secs_f64() * 1000.0;
        return format!("{}ms", trim_float(ms));
    }
    let total = d.as_secs_f64();
    let hours = d.as_secs() / 3600;
    let minutes = (d.as_secs() % 3600) / 60;
    let seconds = total - (hours * 3600 + minutes * 60) as f64;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{}s", trim_float(seconds)));
    out
}

fn trim_float(v: f64) -> String {
    let text = format!("{v:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Handler;

    fn t(seconds: f64) -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap() + Duration::from_secs_f64(seconds)
    }

    fn secs(at: Timestamp) -> f64 {
        at.duration_since(t(0.0)).as_secs_f64()
    }

    fn container(name: &str, behavior: &str) -> ContainerSpec {
        let behavior: Behavior = behavior.parse().unwrap();
        ContainerSpec {
            name: name.into(),
            image: "nginx:1.19".into(),
            backoff: behavior.backoff.unwrap_or(Duration::from_secs(10)),
            behavior: Ok(behavior),
            pull_always: false,
            needs_config: false,
            readiness: None,
            liveness: None,
            startup: None,
        }
    }

    fn probe(initial_delay: u64, period: u64, success: u32, failure: u32) -> Probe {
        Probe {
            handler: Handler::Http,
            initial_delay: Duration::from_secs(initial_delay),
            period: Duration::from_secs(period),
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    fn pod(policy: RestartPolicy, init: Vec<ContainerSpec>, app: Vec<ContainerSpec>) -> PodMachine {
        let spec = PodSpec { pod_ref: "web_ns(u1)".into(), restart_policy: policy, init, app, grace: Duration::from_secs(30) };
        PodMachine::new(spec, "10.128.0.2".into(), t(0.0))
    }

    /// Runs the machine wake by wake up to `until` seconds, answering config
    /// checks with `config`; returns the effects with the time they happened.
    fn run_with(m: &mut PodMachine, until: f64, config: impl Fn(&str) -> Result<(), String>) -> Vec<(f64, Effect)> {
        let mut seen = Vec::new();
        while let Some(wake) = m.next_wake().filter(|w| secs(*w) <= until) {
            let mut effects = m.advance(wake, &ConfigResults::new());
            let pending = m.pending_config();
            if !pending.is_empty() {
                let results = pending.iter().map(|c| (c.clone(), config(c))).collect();
                effects.extend(m.advance(wake, &results));
            }
            seen.extend(effects.into_iter().map(|e| (secs(wake), e)));
        }
        seen
    }

    fn run(m: &mut PodMachine, until: f64) -> Vec<(f64, Effect)> {
        run_with(m, until, |_| Ok(()))
    }

    /// `(time, reason, message)` of the events among `effects`.
    fn events(effects: &[(f64, Effect)]) -> Vec<(f64, &'static str, String)> {
        effects
            .iter()
            .filter_map(|(at, e)| match e {
                Effect::Event { reason, message, .. } => Some((*at, *reason, message.clone())),
                _ => None,
            })
            .collect()
    }

    fn app(m: &PodMachine) -> &ContainerRuntime {
        &m.runtime.app[0]
    }

    fn waiting_reason(c: &ContainerRuntime) -> Option<&str> {
        match &c.state {
            State::Waiting { reason, .. } => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn a_healthy_container_without_probes_is_ready_once_started() {
        let mut m = pod(RestartPolicy::Always, vec![], vec![container("app", "ready log=\"hello\"")]);
        assert_eq!(m.runtime.phase(), "Pending");
        let effects = run(&mut m, 60.0);
        assert_eq!(
            events(&effects),
            [
                (0.0, "Pulling", "Pulling image \"nginx:1.19\"".to_owned()),
                (0.3, "Pulled", "Successfully pulled image \"nginx:1.19\" in 300ms".to_owned()),
                (0.3, "Created", "Created container app".to_owned()),
                (0.3, "Started", "Started container app".to_owned()),
            ]
        );
        assert!(effects.iter().any(|(_, e)| *e == Effect::Log { container: "app".into(), line: "hello".into() }));
        assert!(app(&m).ready && app(&m).started);
        assert_eq!(m.runtime.phase(), "Running");
        assert_eq!(m.next_wake(), None, "nothing left to do");
    }

    #[test]
    fn readiness_follows_the_probe_schedule_and_success_threshold() {
        let mut c = container("app", "ready");
        c.readiness = Some(probe(5, 2, 2, 3));
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        run(&mut m, 7.0);
        assert!(!app(&m).ready, "one success at 5.3s is not enough");
        run(&mut m, 7.3);
        assert!(app(&m).ready, "second success at 7.3s: initialDelay 5 + one period after the 0.3s start");
        assert_eq!(m.next_wake(), None, "a passing probe stops ticking");
    }

    #[test]
    fn a_startup_probe_gates_readiness_and_liveness() {
        let mut c = container("app", "liveness-fail after=1s");
        c.startup = Some(probe(10, 1, 1, 3));
        c.liveness = Some(probe(0, 1, 1, 1));
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        let early = run(&mut m, 10.0);
        assert!(!app(&m).started && !app(&m).ready);
        assert!(events(&early).iter().all(|(_, r, _)| *r != "Unhealthy"), "liveness waits for the startup probe");
        let later = run(&mut m, 10.3);
        let killing: Vec<_> = events(&later).into_iter().filter(|(_, r, _)| *r == "Killing").collect();
        assert_eq!(killing.len(), 1, "the first liveness tick after start-up fails with failureThreshold 1: {later:?}");
    }

    #[test]
    fn a_failing_pull_backs_off_with_doubling_delays() {
        let mut c = container("app", "ready");
        c.image = "nginx:does-not-exist".into();
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        let effects = events(&run(&mut m, 0.3));
        assert_eq!(effects[1].2, format!("Failed to pull image \"nginx:does-not-exist\": {}", behavior::not_found_message("nginx:does-not-exist")));
        assert_eq!(effects[2].2, "Error: ErrImagePull");
        assert_eq!(waiting_reason(app(&m)), Some("ErrImagePull"));
        run(&mut m, 10.2);
        assert_eq!(waiting_reason(app(&m)), Some("ErrImagePull"), "as a real kubelet, until the sync after the failed one");
        let effects = events(&run(&mut m, 10.3));
        assert_eq!(effects.iter().map(|e| e.2.as_str()).collect::<Vec<_>>(), ["Back-off pulling image \"nginx:does-not-exist\"", "Error: ImagePullBackOff"]);
        assert_eq!(waiting_reason(app(&m)), Some("ImagePullBackOff"));
        let pulls: Vec<f64> = events(&run(&mut m, 100.0)).into_iter().filter(|(_, r, _)| *r == "Pulling").map(|(at, ..)| at).collect();
        assert_eq!(pulls, [11.3, 31.6, 71.9], "retries 10s (and the sync that reported it), 20s, 40s after each failure");
        assert_eq!(m.runtime.phase(), "Pending");
    }

    #[test]
    fn the_pull_fail_behaviour_fails_any_image() {
        let mut m = pod(RestartPolicy::Always, vec![], vec![container("app", "pull-fail pull=1s")]);
        let effects = events(&run(&mut m, 1.0));
        assert_eq!(effects[1], (1.0, "Failed", format!("Failed to pull image \"nginx:1.19\": {}", behavior::not_found_message("nginx:1.19"))));
    }

    #[test]
    fn a_crash_loop_restarts_at_once_then_with_doubling_back_off() {
        let mut m = pod(RestartPolicy::Always, vec![], vec![container("app", "crash exit=3 after=1s")]);
        run(&mut m, 1.3);
        assert!(matches!(app(&m).state, State::Terminated { exit_code: 3, ref reason, .. } if reason == "Error"));
        assert_eq!(m.runtime.phase(), "Running", "a container that has run keeps the pod Running");
        let effects = run(&mut m, 2.3);
        assert_eq!(app(&m).restart_count, 1, "first restart after one sync, without back-off");
        assert!(matches!(app(&m).last_state, Some(State::Terminated { exit_code: 3, .. })));
        assert!(effects.iter().any(|(_, e)| *e == Effect::NewInstance { container: "app".into() }));
        assert!(events(&effects).iter().any(|(_, r, m)| *r == "Pulled" && m == "Container image \"nginx:1.19\" already present on machine"));
        let effects = run(&mut m, 3.3);
        assert!(effects.iter().any(|(_, e)| *e == Effect::Log { container: "app".into(), line: "error: exiting with code 3".into() }));
        assert!(events(&effects).iter().any(|(_, r, m)| *r == "BackOff" && m == "Back-off restarting failed container"));
        // As a real kubelet: the crashed instance shows as terminated, its restart count kept,
        // until the pod worker's next sync reports the back-off.
        run(&mut m, 13.2);
        assert!(matches!(app(&m).state, State::Terminated { exit_code: 3, .. }), "{:?}", app(&m).state);
        assert_eq!(app(&m).restart_count, 1);
        run(&mut m, 13.3);
        match &app(&m).state {
            State::Waiting { reason, message } => {
                assert_eq!(reason, "CrashLoopBackOff");
                assert_eq!(message.as_deref(), Some("back-off 10s restarting failed container=app pod=web_ns(u1)"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(app(&m).last_state, Some(State::Terminated { exit_code: 3, .. })));
        let starts: Vec<f64> = events(&run(&mut m, 60.0)).into_iter().filter(|(_, r, _)| *r == "Started").map(|(at, ..)| at).collect();
        assert_eq!(starts, [14.3, 35.3], "a sync after the back-off was reported (10s), then 20s after the third exit");
        assert_eq!(app(&m).restart_count, 3);
    }

    #[test]
    fn an_oom_kill_exits_137_with_reason_oomkilled() {
        let mut m = pod(RestartPolicy::Always, vec![], vec![container("app", "oom after=2s")]);
        run(&mut m, 2.3);
        assert!(matches!(app(&m).state, State::Terminated { exit_code: 137, ref reason, .. } if reason == "OOMKilled"));
        assert!(!app(&m).ready);
    }

    #[test]
    fn a_never_ready_container_runs_with_failing_readiness_probes() {
        let mut m = pod(RestartPolicy::Always, vec![], vec![container("app", "never-ready")]);
        m.slots[0].spec.readiness = Some(probe(0, 10, 1, 3));
        let unhealthy: Vec<_> = events(&run(&mut m, 25.0)).into_iter().filter(|(_, r, _)| *r == "Unhealthy").collect();
        assert_eq!(unhealthy.len(), 3, "at 0.3, 10.3 and 20.3s");
        assert_eq!(unhealthy[0].2, "Readiness probe failed: HTTP probe failed with statuscode: 500");
        assert!(!app(&m).ready && app(&m).started);
        assert_eq!(m.runtime.phase(), "Running");
    }

    #[test]
    fn a_failing_liveness_probe_restarts_the_container() {
        let mut c = container("app", "liveness-fail after=2s term=1s");
        c.liveness = Some(probe(0, 1, 1, 3));
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        let effects = events(&run(&mut m, 4.3));
        let unhealthy: Vec<f64> = effects.iter().filter(|e| e.1 == "Unhealthy").map(|e| e.0).collect();
        assert_eq!(unhealthy, [2.3, 3.3, 4.3], "failures from the first tick at or after 2s");
        assert!(effects.contains(&(4.3, "Killing", "Container app failed liveness probe, will be restarted".to_owned())));
        run(&mut m, 5.3);
        assert!(matches!(app(&m).state, State::Terminated { exit_code: 137, .. }), "stopped after term=1s");
        run(&mut m, 6.3);
        assert_eq!(app(&m).restart_count, 1);
        assert!(matches!(app(&m).state, State::Running { .. }));
    }

    #[test]
    fn a_config_error_is_retried_until_the_config_exists() {
        let mut c = container("app", "ready");
        c.needs_config = true;
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        let effects = run_with(&mut m, 15.0, |_| Err("couldn't find key absent in ConfigMap ns/settings".into()));
        assert!(events(&effects).contains(&(0.3, "Failed", "Error: couldn't find key absent in ConfigMap ns/settings".to_owned())));
        assert!(events(&effects).contains(&(10.3, "Pulled", "Container image \"nginx:1.19\" already present on machine".to_owned())));
        assert_eq!(waiting_reason(app(&m)), Some("CreateContainerConfigError"));
        run(&mut m, 20.3);
        assert!(app(&m).ready, "the retry at 20.3s finds the config");
        assert_eq!(app(&m).restart_count, 0);
    }

    #[test]
    fn an_invalid_behaviour_annotation_is_a_create_container_error() {
        let mut c = container("app", "ready");
        c.behavior = Err("invalid annotation sim.rollwatch.dev/behavior: unknown behaviour kind 'x'".into());
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        let effects = events(&run(&mut m, 60.0));
        assert_eq!(effects.last().unwrap().2, "Error: invalid annotation sim.rollwatch.dev/behavior: unknown behaviour kind 'x'");
        assert_eq!(waiting_reason(app(&m)), Some("CreateContainerError"));
    }

    #[test]
    fn init_containers_run_in_order_before_the_app() {
        let init = vec![container("first", "exit code=0 after=2s"), container("second", "ready")];
        let mut m = pod(RestartPolicy::Always, init, vec![container("app", "ready")]);
        // As a real node shows a pod with init containers: every container PodInitializing.
        assert_eq!(waiting_reason(&m.runtime.init[0]), Some("PodInitializing"));
        let effects = events(&run(&mut m, 1.0));
        assert!(effects.iter().all(|(_, _, msg)| !msg.contains("second") && !msg.contains("app")));
        assert_eq!(waiting_reason(app(&m)), Some("PodInitializing"));
        assert_eq!(m.runtime.phase(), "Pending");
        let started: Vec<(f64, String)> = events(&run(&mut m, 10.0)).into_iter().filter(|e| e.1 == "Started").map(|e| (e.0, e.2)).collect();
        assert_eq!(started, [(2.6, "Started container second".to_owned()), (3.9, "Started container app".to_owned())]);
        assert!(m.runtime.initialized() && m.runtime.init.iter().all(|c| c.ready));
        assert_eq!(m.runtime.phase(), "Running");
    }

    #[test]
    fn a_failed_init_container_fails_a_never_restarting_pod() {
        let mut m = pod(RestartPolicy::Never, vec![container("setup", "exit code=1 after=1s")], vec![container("app", "ready")]);
        run(&mut m, 60.0);
        assert_eq!(m.runtime.phase(), "Failed");
        assert_eq!(waiting_reason(app(&m)), Some("PodInitializing"));
    }

    #[test]
    fn restart_policy_decides_what_an_exit_means() {
        let mut done = pod(RestartPolicy::Never, vec![], vec![container("task", "exit code=0 after=1s")]);
        run(&mut done, 60.0);
        assert_eq!(done.runtime.phase(), "Succeeded");
        let mut failed = pod(RestartPolicy::Never, vec![], vec![container("task", "exit code=2 after=1s")]);
        run(&mut failed, 60.0);
        assert_eq!(failed.runtime.phase(), "Failed");
        assert_eq!(failed.runtime.app[0].restart_count, 0);
        let mut retried = pod(RestartPolicy::OnFailure, vec![], vec![container("task", "exit code=2 after=1s")]);
        run(&mut retried, 60.0);
        assert!(retried.runtime.app[0].restart_count >= 2);
        let mut once = pod(RestartPolicy::OnFailure, vec![], vec![container("task", "exit code=0 after=1s")]);
        run(&mut once, 60.0);
        assert_eq!(once.runtime.phase(), "Succeeded");
        let mut always = pod(RestartPolicy::Always, vec![], vec![container("task", "exit code=0 after=1s")]);
        run(&mut always, 60.0);
        assert!(always.runtime.app[0].restart_count >= 2, "Always restarts even a clean exit");
    }

    #[test]
    fn terminating_stops_running_containers_within_the_grace_period() {
        let mut m = pod(RestartPolicy::Always, vec![], vec![container("app", "ready term=5s"), container("side", "pull-fail")]);
        run(&mut m, 1.0);
        let (effects, wait) = m.terminate(Duration::from_secs(3));
        assert_eq!(effects, [Effect::Event { container: "app".into(), kind: Type::Normal, reason: "Killing", message: "Stopping container app".into() }]);
        assert_eq!(wait, Duration::from_secs(3), "term=5s capped by the 3s grace period");
        assert_eq!(m.next_wake(), None);
        assert!(m.advance(t(100.0), &ConfigResults::new()).is_empty());
    }

    #[test]
    fn a_driver_that_fell_behind_gets_one_late_probe_not_a_burst() {
        let mut c = container("app", "never-ready");
        c.readiness = Some(probe(0, 1, 1, 3));
        let mut m = pod(RestartPolicy::Always, vec![], vec![c]);
        let effects = m.advance(t(30.0), &ConfigResults::new());
        let unhealthy = effects.iter().filter(|e| matches!(e, Effect::Event { reason: "Unhealthy", .. })).count();
        assert!(unhealthy <= 2, "{unhealthy} probe events for one late wake");
        assert!(m.next_wake().is_some_and(|w| w > t(30.0)));
    }

    #[test]
    fn go_duration_text() {
        assert_eq!(go_duration(Duration::from_millis(300)), "300ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(150)), "2m30s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }
}
