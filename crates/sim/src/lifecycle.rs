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
    Event { container: String, kind: Type, reason: &'static str, message: String },
    Log { container: String, line: String },
    /// A new instance of the container starts: its old log becomes `--previous`.
    NewInstance { container: String },
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
        [self.exit.as_ref().map(|e| e.0), self.startup.as_ref().map(|t| t.next), self.readiness.as_ref().map(|t| t.next), self.liveness.as_ref().map(|t| t.next)]
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
    PullDone { began: Timestamp },
    /// The sync after a failed pull: ErrImagePull turns into ImagePullBackOff.
    PullBackOff { failed_at: Timestamp },
    /// Create (after the config check) and start the container.
    Create,
    Running(Run),
    /// Being stopped after a failed liveness probe; stopped at `at`.
    Stopping { exit: Exit },
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
        let runtime_of = |c: &ContainerSpec, first: bool| {
            let mut r = ContainerRuntime::new(&c.name, &c.image);
            if !first {
                r.state = State::waiting("PodInitializing", None);
            }
            r
        };
        let init = spec.init.iter().enumerate().map(|(i, c)| runtime_of(c, i == 0)).collect();
        let app = spec.app.iter().map(|c| runtime_of(c, !has_init)).collect();
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
                        self.set(index, Step::PullBackOff { failed_at: at }, Some(at + SYNC));
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
                self.set(index, Step::StartPull, Some((failed_at + delay).max(at)));
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
            Kind::Oom { after } => Some((at + after, Exit { code: KILLED, reason: "OOMKilled", line: format!("fatal: out of memory, killed with exit code {KILLED}") })),
            _ if is_init => Some((at + INIT_RUN, Exit::with_code(0))),
            _ => None,
        };
        let probe_tick = |p: &Probe| Tick { next: at + p.initial_delay, run: 0 };
        let liveness = match (&spec.liveness, &behavior.kind) {
            (Some(probe), Kind::LivenessFail { after }) => Some(Tick { next: first_tick_at_or_after(at + probe.initial_delay, probe.period, at + *after), run: 0 }),
            _ => None,
        };
        let mut run = Run { started_at: at, exit, startup: spec.startup.as_ref().map(probe_tick), readiness: spec.readiness.as_ref().map(probe_tick), liveness };
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
        let delay = behavior::backoff(spec.backoff, restart_count - 1).max(SYNC);
        let container = self.container(index);
        container.last_state = Some(container.state.clone());
        let message = format!("back-off {} restarting failed container={} pod={}", go_duration(delay), spec.name, self.spec.pod_ref);
        self.container(index).state = State::waiting("CrashLoopBackOff", Some(message));
        effects.push(event(&spec.name, Type::Warning, "BackOff", "Back-off restarting failed container".to_owned()));
        self.set(index, Step::StartPull, Some(at + delay));
    }

    fn start_next_after_init(&mut self, index: usize, at: Timestamp) {
        let init = self.spec.init.len();
        let next: Vec<usize> = if index + 1 < init { vec![index + 1] } else { (init..self.slots.len()).collect() };
        for i in next {
            self.container(i).state = State::waiting("ContainerCreating", None);
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
