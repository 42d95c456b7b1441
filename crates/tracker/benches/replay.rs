//! The engine replay benchmark (issue #18): the watch events of a real rollout on the test bed
//! (`data/rollout.jsonl`, recorded by `crates/testbed/src/bin/record.rs`: a Deployment of 2
//! replicas rolled to a new image) replayed into the tracker's engine as fast as it takes them,
//! with no cluster, the objects copied under new names (namespaces, names, uids) to reach COPIES
//! tracked Deployments, 100 to a namespace. A benchmark, not a test:
//!
//!   cargo bench -p rollwatch-tracker --bench replay -- COPIES [--idle SECONDS] [--recheck-every-second]
//!
//! Everything runs on one thread (a current-thread runtime, as rollwatch's), so its CPU is one
//! core's; CPU (user + system) and peak RSS are the process's, from getrusage. The replay ends
//! when every feed has sent its last event and every copy is ready (kubectl's instant verdict:
//! the settle window would only add its 10 s). Then, every
//! object ready, the engine waits (the run waits for their deletion, so it does not end): its CPU
//! over SECONDS (default 20) is the idle cost. `--recheck-every-second` also judges every object
//! every second, as the engine did before verdicts said when they change by time.
//!
//! Prints one `engine replay: ...` line: `scripts/bench-replay` puts those into BENCHMARKS.md.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube::runtime::watcher::Event;
use rollwatch_tracker::replay::{self, Recorded};
use rollwatch_tracker::{FeedKey, Goal, TrackOptions, Update};
use rollwatch_verdict::{ObjectRef, Policy, State};
use serde_json::Value;

/// rollwatch's allocator (`crates/cli/src/main.rs`), so the engine is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDING: &str = include_str!("data/rollout.jsonl");
/// Copies of the recorded objects in one namespace (a feed per kind and namespace).
const PER_NAMESPACE: usize = 100;

/// Where a copy's number and namespace go in a recorded object's text.
const COPY_MARK: &str = "@copy@";
/// Where a copy's number goes in a uid: its last 12 digits, so that a copy's uids are UUIDs as the
/// API server writes them.
const UID_MARK: &str = "@uid@";
const NAMESPACE_MARK: &str = "@namespace@";

/// The recording, by kind: each kind's listed objects and its changes, in order, as JSON text with
/// the marks where a copy's names go.
#[derive(Default)]
struct Recording {
    listed: HashMap<(String, String), Vec<Template>>,
    changes: HashMap<(String, String), Vec<(bool, Template)>>,
}

/// One recorded object.
struct Template {
    /// Its text with the marks (namespaced objects) or as recorded (cluster-scoped ones).
    text: String,
    namespaced: bool,
    /// Whether a feed with field selector `fields` (`type=Warning`, `source=cluster-autoscaler`,
    /// `reason=Killing`) reads it, as the API server selects.
    fields: Vec<(&'static str, Option<String>)>,
}

impl Template {
    fn new(object: Value) -> Self {
        let text_at = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        let fields = vec![("type", text_at("/type")), ("source", text_at("/source/component")), ("reason", text_at("/reason"))];
        let namespaced = object.pointer("/metadata/namespace").is_some();
        let object = if namespaced { renamed(object) } else { object };
        Template { text: object.to_string(), namespaced, fields }
    }

    fn selected(&self, fields: Option<&str>) -> bool {
        let Some((field, wanted)) = fields.and_then(|fields| fields.split_once('=')) else { return true };
        self.fields.iter().any(|(name, value)| *name == field && value.as_deref() == Some(wanted))
    }

    /// The text of copy `copy` in `namespace`.
    fn copy(&self, copy: usize, namespace: Option<&str>) -> String {
        match namespace {
            Some(namespace) if self.namespaced => {
                self.text.replace(NAMESPACE_MARK, namespace).replace(COPY_MARK, &copy.to_string()).replace(UID_MARK, &format!("{copy:012}"))
            }
            _ => self.text.clone(),
        }
    }
}

impl Recording {
    fn parse(text: &str) -> Self {
        let mut recording = Recording::default();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let event: Value = serde_json::from_str(line).expect("a recorded event is JSON");
            let object = event["object"].clone();
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            let group = api_version.rsplit_once('/').map_or("", |(group, _)| group).to_string();
            let key = (group, object["kind"].as_str().expect("a recorded object has a kind").to_string());
            let template = Template::new(object);
            match event["type"].as_str() {
                Some("LISTED") => recording.listed.entry(key).or_default().push(template),
                Some("DELETED") => recording.changes.entry(key).or_default().push((true, template)),
                Some(_) => recording.changes.entry(key).or_default().push((false, template)),
                None => panic!("a recorded event without a type: {line}"),
            }
        }
        recording
    }
}

/// The recording copied `copies` times, `PER_NAMESPACE` copies to a namespace, renamed on the fly.
struct Copies {
    recording: Recording,
    copies: usize,
    /// Object events sent (list items included), as the engine counts them.
    events: AtomicU64,
    /// List items sent.
    listed: AtomicU64,
    feeds_started: AtomicUsize,
    feeds_done: AtomicUsize,
}

impl Recorded for Copies {
    fn events(self: Arc<Self>, key: &FeedKey) -> Box<dyn Iterator<Item = Event<String>> + Send> {
        let this = self;
        this.feeds_started.fetch_add(1, Ordering::SeqCst);
        let kind = (key.resource.api.group.clone(), key.resource.api.kind.clone());
        let fields = key.fields;
        let copies: Vec<(usize, Option<String>)> = match &key.namespace {
            // Cluster-scoped (the Nodes, listed only): the recorded objects once.
            None => vec![(0, None)],
            Some(namespace) => {
                let first = namespace.strip_prefix("replay-").and_then(|n| n.parse::<usize>().ok()).expect("a replay namespace") * PER_NAMESPACE;
                (first..(first + PER_NAMESPACE).min(this.copies)).map(|copy| (copy, Some(namespace.clone()))).collect()
            }
        };
        let listed = {
            let (this, kind, copies) = (Arc::clone(&this), kind.clone(), copies.clone());
            copies.into_iter().flat_map(move |(copy, namespace)| {
                let texts: Vec<String> =
                    this.recording.listed.get(&kind).into_iter().flatten().filter(|o| o.selected(fields)).map(|o| o.copy(copy, namespace.as_deref())).collect();
                texts.into_iter().map(Event::InitApply)
            })
        };
        let changes = {
            let this = Arc::clone(&this);
            let selected: Vec<usize> =
                this.recording.changes.get(&kind).into_iter().flatten().enumerate().filter(|(_, (_, o))| o.selected(fields)).map(|(i, _)| i).collect();
            selected.into_iter().flat_map(move |change| {
                let this = Arc::clone(&this);
                let kind = kind.clone();
                copies.clone().into_iter().map(move |(copy, namespace)| {
                    let (deleted, template) = &this.recording.changes[&kind][change];
                    let text = template.copy(copy, namespace.as_deref());
                    if *deleted { Event::Delete(text) } else { Event::Apply(text) }
                })
            })
        };
        let counted = Arc::clone(&this);
        let done = Arc::clone(&this);
        let events = std::iter::once(Event::Init)
            .chain(listed)
            .chain(std::iter::once(Event::InitDone))
            .chain(changes)
            .inspect(move |event| {
                if !matches!(event, Event::Init | Event::InitDone) {
                    counted.events.fetch_add(1, Ordering::Relaxed);
                }
                if matches!(event, Event::InitApply(_)) {
                    counted.listed.fetch_add(1, Ordering::Relaxed);
                }
            })
            .chain(std::iter::from_fn(move || {
                done.feeds_done.fetch_add(1, Ordering::SeqCst);
                None
            }));
        Box::new(events)
    }
}

/// A namespaced `object` with the marks for a copy's namespace and number: names of it, its
/// owners and what an Event is about get the copy's suffix, their uids the copy's number as
/// their last 12 digits.
fn renamed(mut object: Value) -> Value {
    let suffix = |value: &mut Value| {
        if let Some(text) = value.as_str() {
            *value = Value::String(format!("{text}-{COPY_MARK}"));
        }
    };
    let uid = |value: &mut Value| {
        if let Some(text) = value.as_str() {
            let kept = text.get(..24).expect("a recorded uid is a UUID");
            *value = Value::String(format!("{kept}{UID_MARK}"));
        }
    };
    let metadata = &mut object["metadata"];
    metadata["namespace"] = Value::String(NAMESPACE_MARK.to_string());
    suffix(&mut metadata["name"]);
    uid(&mut metadata["uid"]);
    for owner in metadata.get_mut("ownerReferences").and_then(Value::as_array_mut).into_iter().flatten() {
        suffix(&mut owner["name"]);
        uid(&mut owner["uid"]);
    }
    if let Some(about) = object.get_mut("involvedObject") {
        about["namespace"] = Value::String(NAMESPACE_MARK.to_string());
        suffix(&mut about["name"]);
        uid(&mut about["uid"]);
    }
    object
}

/// CPU time (user + system) of the process so far, and its peak RSS in bytes.
fn usage() -> (Duration, u64) {
    // SAFETY: getrusage writes the struct it is given and nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0, "getrusage");
        usage
    };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    (time(usage.ru_utime) + time(usage.ru_stime), usage.ru_maxrss as u64 * 1024)
}

struct Args {
    copies: usize,
    idle: Duration,
    recheck_every_second: bool,
}

fn args() -> Args {
    let mut args = Args { copies: 10_000, idle: Duration::from_secs(20), recheck_every_second: false };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            // cargo bench passes it to every benchmark.
            "--bench" => {}
            "--idle" => args.idle = Duration::from_secs(given.next().and_then(|s| s.parse().ok()).expect("--idle SECONDS")),
            "--recheck-every-second" => args.recheck_every_second = true,
            copies => args.copies = copies.parse().unwrap_or_else(|_| panic!("COPIES is a number, not {copies:?}")),
        }
    }
    args
}

fn main() {
    let args = args();
    let copies = Arc::new(Copies {
        recording: Recording::parse(RECORDING),
        copies: args.copies,
        events: AtomicU64::new(0),
        listed: AtomicU64::new(0),
        feeds_started: AtomicUsize::new(0),
        feeds_done: AtomicUsize::new(0),
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run(args, copies));
}

async fn run(args: Args, copies: Arc<Copies>) {
    let tracked: Vec<ObjectRef> = (0..args.copies)
        .map(|copy| ObjectRef::in_group("apps", "Deployment", Some(format!("replay-{}", copy / PER_NAMESPACE)), format!("web-{copy}")))
        .collect();
    let options = TrackOptions {
        policy: Policy { stable_for: Duration::ZERO, ..Policy::default() },
        goal: Goal::Deleted,
        timeout: None,
        logs_tail: 0,
        recheck_every: args.recheck_every_second.then_some(Duration::from_secs(1)),
        ..TrackOptions::default()
    };
    // Nothing listens there: built-in kinds need no discovery (and every pod recorded is scheduled,
    // so the autoscaler's status is never asked).
    let client = kube::Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap())).expect("a client");
    let (cpu_before, _) = usage();
    let started = Instant::now();
    let (mut tracking, evaluations) = replay::track(client, tracked, options, Arc::clone(&copies) as Arc<dyn Recorded>);

    // Which copies are ready, by number: a byte each, so that the benchmark's own bookkeeping adds
    // little to the peak it measures.
    let mut copy_ready = vec![false; args.copies];
    let mut ready = 0;
    let mut replayed = None;
    let feeds_done = || {
        let started = copies.feeds_started.load(Ordering::SeqCst);
        started > 0 && copies.feeds_done.load(Ordering::SeqCst) == started
    };
    let mut check = tokio::time::interval(Duration::from_millis(10));
    while replayed.is_none() {
        tokio::select! {
            update = tracking.next_update() => match update.expect("the run goes on") {
                Update::Verdict(change) => match change.verdict.state {
                    state @ (State::Progressing | State::Ready) => {
                        let copy = change.object.name.strip_prefix("web-").and_then(|n| n.parse::<usize>().ok()).expect("a copy's Deployment");
                        let was_ready = std::mem::replace(&mut copy_ready[copy], state == State::Ready);
                        ready = ready + usize::from(state == State::Ready) - usize::from(was_ready);
                    }
                    other => panic!("{}: {other:?}: {}", change.object, change.verdict.message),
                },
                Update::Trouble { feed, message } => panic!("{feed}: {message}"),
                _ => {}
            },
            _ = check.tick() => {}
        }
        // Counted as verdicts come: a pass over every copy per update would be the benchmark's cost.
        let all_ready = ready == args.copies;
        if replayed.is_none() && all_ready && feeds_done() {
            replayed = Some((started.elapsed(), usage().0 - cpu_before, copies.events.load(Ordering::Relaxed)));
        }
    }
    let (wall, cpu, events) = replayed.expect("every copy rolled out");
    let (_, peak_after_replay) = usage();

    // Idle: every object ready, nothing changes.
    let (idle_cpu_before, _) = usage();
    let judged_before = evaluations.load(Ordering::Relaxed);
    let idle_until = tokio::time::Instant::now() + args.idle;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(idle_until) => break,
            update = tracking.next_update() => {
                if let Some(Update::Verdict(change)) = update {
                    panic!("a verdict changed while idle: {}: {:?}", change.object, change.verdict.state);
                }
            }
        }
    }
    let idle_cpu = usage().0 - idle_cpu_before;
    let idle_judged = evaluations.load(Ordering::Relaxed) - judged_before;
    tracking.interrupt();
    drop(tracking);

    let engine = if args.recheck_every_second { "every object judged every second (the engine before #18)" } else { "judged when due" };
    let idle = if args.idle.is_zero() {
        "idle not measured".to_string()
    } else {
        format!(
            "idle with every object ready, {engine}: {:.3} % of one core over {} s ({idle_judged} verdicts)",
            idle_cpu.as_secs_f64() * 100.0 / args.idle.as_secs_f64(),
            args.idle.as_secs()
        )
    };
    println!(
        "engine replay: {} tracked Deployments ({} objects listed at the start, {} feeds): {events} events in {:.1} s, {:.0} events/s ({:.0} per CPU second), {:.1} µs CPU per event; peak RSS {:.0} MiB; {idle}",
        args.copies,
        copies.listed.load(Ordering::Relaxed),
        copies.feeds_started.load(Ordering::SeqCst),
        wall.as_secs_f64(),
        events as f64 / wall.as_secs_f64(),
        events as f64 / cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / events as f64,
        peak_after_replay as f64 / (1024.0 * 1024.0),
    );
}
