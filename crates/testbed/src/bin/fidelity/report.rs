//! FIDELITY.md from the runs: per scenario the verdicts, the first pod's distinct statuses and each
//! distinct Event about the pods side by side, the detection latencies, and the differences between the
//! worlds, each with its explanation from [`KNOWN`] or marked as not explained.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use jiff::Timestamp;
use rollwatch_testbed::{World, repo_root};
use serde_json::Value;

use crate::{Seen, UPDATES, Verdict, WorldRun};

/// Differences explained: a difference whose text contains `matches`, in a scenario whose file
/// name starts with one of `scenarios` (any when empty), gets `why`.
struct Known {
    scenarios: &'static [&'static str],
    matches: &'static str,
    why: &'static str,
}

/// Why the restart cycle's statuses differ between the worlds without changing a verdict.
const RESTART_CYCLE_TIMING: &str = "a crash cycle's short states — a restarted container's 1 s run, a `terminated` \
     state the next sync replaces — are seen or missed depending on when the kubelet's status writes fall, and a \
     loaded real node's syncs come late: in one run the real node showed a crashed container `terminated` with its \
     restart count raised, in another it went to CrashLoopBackOff about 1 s after the first termination (the notes \
     this project started from measured 11-14 s; the simulator waits 12 s). The failure is the same in every case: \
     a non-zero exit or OOM kill beyond the allowed restarts";
/// Why the first reason code of a crash loop differs.
const FIRST_STATUS_OF_A_CRASH: &str = "the same failure named by whichever status rollwatch saw first with a restart \
     beyond the allowed ones: the restarted container running or exited again after a non-zero exit (NonZeroExit) or \
     already back in back-off (CrashLoopBackOff), which depends on when the kubelet's status writes fall. The verdict, \
     failed, is the same; the code is not, and tests/real_nodes.rs would not pass it: that test accepts NonZeroExit or \
     CrashLoopBackOff as the code, but requires the whole outcome (result, each object's state and reason codes) to be \
     the same in both worlds, so a run of it in which the worlds named the crash differently fails";
/// Why a failed pull's first reason code differs.
const FIRST_STATUS_OF_A_PULL: &str = "the same failure named by the first status the watch saw: `ErrImagePull`, \
     or `ImagePullBackOff` 10-13 s later when a loaded real kubelet's write of the first was not seen (the simulator \
     writes both, 12 s apart). The verdict, failed, is the same; the code is not, and tests/real_nodes.rs would not pass \
     it: that test accepts ErrImagePull or ImagePullBackOff as the code, but requires the whole outcome (result, each \
     object's state and reason codes) to be the same in both worlds, so a run of it in which the worlds named the pull \
     failure differently fails";
const CRASHING: &[&str] = &["crash-loop", "init-failure", "oom", "liveness-restarts"];

const KNOWN: &[Known] = &[
    Known { scenarios: CRASHING, matches: "(CrashLoopBackOff), simulated failed (NonZeroExit)", why: FIRST_STATUS_OF_A_CRASH },
    Known { scenarios: CRASHING, matches: "(NonZeroExit), simulated failed (CrashLoopBackOff)", why: FIRST_STATUS_OF_A_CRASH },
    Known { scenarios: CRASHING, matches: "status only on the", why: RESTART_CYCLE_TIMING },
    Known {
        scenarios: &["liveness-restarts"],
        matches: "Warning BackOff",
        why: "whether the real kubelet started a container killed for its liveness probe again at once or after the \
              back-off varied between runs (restarts 4 s apart without a BackOff event in one, CrashLoopBackOff with \
              BackOff events in another); the simulator always backs off as after a crash. Either way the restarts \
              exceed the allowed ones alike",
    },
    Known {
        scenarios: &[],
        matches: "status only on the simulator: `Pending; Ready False (ContainersNotReady); app: waiting(ContainerCreating)`",
        why: "the simulator writes ContainerCreating when it admits the pod, and what follows after its 300 ms pull; a \
              loaded real kubelet's first status write can come after the container ran, failed or finished; \
              ContainerCreating is no trouble to rollwatch, what follows decides in both",
    },
    Known { scenarios: &["missing-image"], matches: "(ImagePullBackOff), simulated failed (ErrImagePull)", why: FIRST_STATUS_OF_A_PULL },
    Known { scenarios: &["missing-image"], matches: "(ErrImagePull), simulated failed (ImagePullBackOff)", why: FIRST_STATUS_OF_A_PULL },
    Known { scenarios: &["missing-image"], matches: "status only on the", why: FIRST_STATUS_OF_A_PULL },
    Known {
        scenarios: &[],
        matches: "Normal Pull",
        why: "the scenarios' images are imported into the real node's containerd beforehand (`IfNotPresent`: \
              \"already present on machine\", no `Pulling`), while the simulator's nodes start without images and pull \
              on a container's first start (300 ms); no rule reads pull events",
    },
    Known {
        scenarios: &[],
        matches: "wording of Warning Unhealthy",
        why: "busybox's httpd answers a missing path with 404; the simulator, with no server to ask, says 500; rules \
              read the event's reason and probe kind, not the status code",
    },
    Known {
        scenarios: &[],
        matches: "event only on the real node: Warning Unhealthy `Readiness probe failed: Get",
        why: "a real probe can run before httpd listens (`connection refused`), or time out on a loaded node; the pod \
              is not Ready yet either way, and failing readiness probes count only after `--readiness-grace`",
    },
    Known {
        scenarios: &["oom"],
        matches: "Readiness probe errored",
        why: "the exec readiness probe raced the OOM kill of the container it runs in; the OOM kill decides",
    },
    Known {
        scenarios: &[],
        matches: "FailedMount",
        why: "the real kubelet, on a loaded machine, timed out reading the service account token's Secret once and \
              retried the mount; the pod started after it, and no rule reads FailedMount",
    },
    Known {
        scenarios: &["missing-image"],
        matches: "wording of Warning Failed",
        why: "the scenario's registry is a closed port on loopback (`connection refused`, gRPC code Unknown), the \
              simulator answers as a registry without the image (`not found`); the reason, ErrImagePull, is the same",
    },
    Known {
        scenarios: &[],
        matches: "app: running`",
        why: "a real kubelet writes the running container before its first readiness probe's result, the simulator's \
              first probe at `initialDelaySeconds: 0` lands in the same write; not Ready either way",
    },
    Known {
        scenarios: UPDATES,
        matches: "ContainerStatusUnknown",
        why: "an old pod being deleted in an update: the kubelet reports the container it stopped and can no longer \
              find as `ContainerStatusUnknown`; the simulator deletes its pods without that write; only the current \
              revision's pods count",
    },
    Known {
        scenarios: UPDATES,
        matches: "terminated(Error, exit 137)`",
        why: "an old pod being deleted in an update: busybox's httpd as PID 1 ignores SIGTERM, so the real container \
              is killed after the grace period (137), the simulator's stops at once; only the current revision's \
              pods count",
    },
    Known {
        scenarios: &["job-"],
        matches: "app: running ready`",
        why: "the Job's container runs 1 s; whether a status write falls inside that second depends on the kubelet's \
              sync timing; the Job's verdict comes from its pods' ends and its conditions",
    },
];

/// Differences earlier runs of this report found and the simulator no longer has, each with the
/// simulator's unit test that holds it to the real kubelet.
const FIXED: &[(&str, &str)] = &[
    (
        "a Ready (and ContainersReady, Initialized) condition turned True kept the reason and message it had while False \
         (`Ready True (ContainersNotReady)`), since the simulator's status is a strategic merge patch and a field left \
         out is kept; a real kubelet writes True without them. Now nulled",
        "status::tests::a_condition_turning_true_removes_the_reason_and_message_it_had",
    ),
    (
        "a failed pod (the Job failure) was `Ready False (PodCompleted)`; a real kubelet says `ContainersNotReady` with \
         its message, `PodCompleted` only for a pod that succeeded (the kubelet's GeneratePodReadyCondition)",
        "status::tests::finished_containers_decide_succeeded_or_failed",
    ),
    (
        "the first init container of a pod was `waiting(ContainerCreating)` before it ran; a real kubelet shows every \
         container of a pod with init containers as `waiting(PodInitializing)` until it runs",
        "lifecycle::tests::init_containers_run_in_order_before_the_app",
    ),
];

/// Rows a status table shows per world before it says how many more there were.
const MAX_STATUS_ROWS: usize = 16;
/// Rows an Events table shows per world before it says how many more there were.
const MAX_EVENT_ROWS: usize = 16;

/// A pod's name, namespace and uid in its messages, replaced so the two worlds' texts compare.
struct Names {
    replacements: Vec<(String, &'static str)>,
}

impl Names {
    fn of(run: &WorldRun) -> Names {
        let mut replacements: Vec<(String, &'static str)> = Vec::new();
        for seen in &run.seen {
            let metadata = &seen.pod["metadata"];
            if let Some(uid) = metadata["uid"].as_str() {
                replacements.push((uid.to_owned(), "UID"));
            }
            if let Some(name) = metadata["name"].as_str() {
                replacements.push((name.to_owned(), "POD"));
            }
            if let Some(node) = seen.pod["spec"]["nodeName"].as_str() {
                replacements.push((node.to_owned(), "NODE"));
            }
        }
        replacements.push((run.namespace.clone(), "NS"));
        replacements.sort_by_key(|(text, _)| std::cmp::Reverse(text.len()));
        replacements.dedup();
        Names { replacements }
    }

    fn apply(&self, text: &str) -> String {
        let mut text = text.replace('\n', " ").replace('|', "/");
        for (from, to) in &self.replacements {
            text = text.replace(from.as_str(), to);
        }
        text
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { format!("{}…", text.chars().take(max).collect::<String>()) }
}

/// A container's state: `waiting(Reason: message)`, `running`, `terminated(Reason, exit N: message)`.
fn state(state: &Value, names: &Names, with_message: bool) -> String {
    let message = |s: &Value| match s["message"].as_str() {
        Some(m) if with_message && !m.is_empty() => format!(": {}", shorten(&names.apply(m), 90)),
        _ => String::new(),
    };
    if let Some(waiting) = state.get("waiting") {
        format!("waiting({}{})", waiting["reason"].as_str().unwrap_or(""), message(waiting))
    } else if state.get("running").is_some() {
        "running".to_owned()
    } else if let Some(terminated) = state.get("terminated") {
        format!("terminated({}, exit {}{})", terminated["reason"].as_str().unwrap_or(""), terminated["exitCode"], message(terminated))
    } else {
        "no state".to_owned()
    }
}

/// A pod status in one line: phase, the conditions that say something (Ready always; the others
/// when not True, ContainersReady when it differs from Ready), and per container its state,
/// readiness, restart count and last termination. The shape leaves out messages and restart
/// counts (timing), keeping whether it restarted.
fn describe(pod: &Value, names: &Names, shape: bool) -> String {
    let status = &pod["status"];
    let mut parts = vec![status["phase"].as_str().unwrap_or("?").to_owned()];
    let conditions: BTreeMap<&str, (&str, &str)> = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["type"].as_str()?, (c["status"].as_str().unwrap_or(""), c["reason"].as_str().unwrap_or("")))))
        .collect();
    let condition =
        |name: &str, (value, reason): (&str, &str)| if reason.is_empty() { format!("{name} {value}") } else { format!("{name} {value} ({reason})") };
    let ready = conditions.get("Ready").copied();
    if let Some(ready) = ready {
        parts.push(condition("Ready", ready));
    }
    for (name, value) in &conditions {
        let says_something = match *name {
            "Ready" => false,
            "ContainersReady" => Some(value.0) != ready.map(|r| r.0),
            _ => value.0 != "True",
        };
        if says_something {
            parts.push(condition(name, *value));
        }
    }
    for (kind, key) in [("init ", "initContainerStatuses"), ("", "containerStatuses")] {
        for container in status[key].as_array().into_iter().flatten() {
            let mut text = format!("{kind}{}: {}", container["name"].as_str().unwrap_or("?"), state(&container["state"], names, !shape));
            if container["ready"] == true {
                text.push_str(" ready");
            }
            let restarts = container["restartCount"].as_i64().unwrap_or(0);
            if shape && restarts > 0 {
                text.push_str(" restarted");
            } else if restarts > 0 {
                write!(text, " restarts {restarts}").unwrap();
            }
            if container["lastState"].get("terminated").is_some() {
                write!(text, ", last {}", state(&container["lastState"], names, false)).unwrap();
            }
            parts.push(text);
        }
    }
    parts.join("; ")
}

/// One pod's distinct statuses in the order the watch saw them, with ms since the pod was first
/// seen (its creation: the watch runs before the pods exist).
struct PodTrace {
    uid: String,
    statuses: Vec<(i64, String)>,
    shapes: BTreeSet<String>,
}

fn traces(run: &WorldRun, names: &Names) -> Vec<PodTrace> {
    let mut traces: Vec<PodTrace> = Vec::new();
    let mut first_seen: BTreeMap<String, i64> = BTreeMap::new();
    for Seen { at_ms, pod } in &run.seen {
        let uid = pod["metadata"]["uid"].as_str().unwrap_or_default().to_owned();
        let since = *first_seen.entry(uid.clone()).or_insert(*at_ms);
        let index = match traces.iter().position(|t| t.uid == uid) {
            Some(index) => index,
            None => {
                traces.push(PodTrace { uid, statuses: Vec::new(), shapes: BTreeSet::new() });
                traces.len() - 1
            }
        };
        let trace = &mut traces[index];
        let line = describe(pod, names, false);
        if trace.statuses.last().map(|(_, last)| last) != Some(&line) {
            trace.statuses.push((at_ms - since, line));
        }
        trace.shapes.insert(describe(pod, names, true));
    }
    traces
}

/// One distinct Event about a scenario's pods: its type and reason, its message (names replaced),
/// its count summed over the pods it was about, and when it was first and last seen, in ms after
/// the scenario's start.
struct EventRow {
    kind: String,
    message: String,
    count: i64,
    pods: BTreeSet<String>,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
}

/// An Event's time as a Unix millisecond, cut down to its whole second. The kubelet's Events carry
/// `firstTimestamp` and `lastTimestamp` in whole seconds (cut down); the scheduler's
/// (events.k8s.io) carry only `eventTime`, in microseconds, cut down here as well, so that the
/// scheduler's Event does not come after the kubelet's of the same second that followed it: Events
/// of one second keep the order the API lists them in (by name), which is not always the order
/// they happened in.
fn event_ms(time: &Value) -> Option<i64> {
    let time: Timestamp = time.as_str()?.parse().ok()?;
    Some(time.as_second() * 1000)
}

/// The distinct Events about the pods of `run` (one per type, reason and message, whichever pod
/// it was about), in the order they were first seen.
fn event_rows(run: &WorldRun, names: &Names) -> Vec<EventRow> {
    let mut rows: Vec<EventRow> = Vec::new();
    for event in run.events.iter().filter(|e| e["involvedObject"]["kind"] == "Pod") {
        let kind = format!("{} {}", event["type"].as_str().unwrap_or("?"), event["reason"].as_str().unwrap_or("?"));
        let message = names.apply(event["message"].as_str().unwrap_or_default());
        let first = event_ms(&event["firstTimestamp"]).or_else(|| event_ms(&event["eventTime"]));
        let last = event_ms(&event["lastTimestamp"]).or_else(|| event_ms(&event["series"]["lastObservedTime"])).or(first);
        let count = event["count"].as_i64().or_else(|| event["series"]["count"].as_i64()).unwrap_or(1);
        let (first, last) = (first.map(|t| t - run.started_ms), last.map(|t| t - run.started_ms));
        let index = match rows.iter().position(|r| r.kind == kind && r.message == message) {
            Some(index) => index,
            None => {
                rows.push(EventRow { kind, message, count: 0, pods: BTreeSet::new(), first_ms: first, last_ms: last });
                rows.len() - 1
            }
        };
        let row = &mut rows[index];
        row.count += count;
        row.pods.insert(event["involvedObject"]["uid"].as_str().unwrap_or_default().to_owned());
        row.first_ms = row.first_ms.into_iter().chain(first).min();
        row.last_ms = row.last_ms.into_iter().chain(last).max();
    }
    // Stable: rows first seen in the same second keep the API's order.
    rows.sort_by_key(|row| (row.first_ms.is_none(), row.first_ms));
    rows
}

/// An Event row in one line: `+4 s Normal Created ×3 on 2 pods, last +29 s: message`. A time is
/// the start of the Event's second after the scenario's start, rounded up to a whole second: the
/// Event came within a second of it.
fn event_line(row: &EventRow) -> String {
    let at = |ms: Option<i64>| ms.map_or("?".to_owned(), |ms| format!("+{} s", (ms as f64 / 1000.0).ceil() as i64));
    let mut line = format!("{} {}", at(row.first_ms), row.kind);
    if row.count > 1 {
        write!(line, " ×{}", row.count).unwrap();
    }
    if row.pods.len() > 1 {
        write!(line, " on {} pods", row.pods.len()).unwrap();
    }
    if row.count > 1 && row.last_ms != row.first_ms {
        write!(line, ", last {}", at(row.last_ms)).unwrap();
    }
    write!(line, ": {}", shorten(&row.message, 110)).unwrap();
    line
}

/// The Events about pods by type and reason, with the message of the one first seen: what the
/// differences compare.
fn pod_events(run: &WorldRun, names: &Names) -> BTreeMap<String, String> {
    let mut grouped = BTreeMap::new();
    for row in event_rows(run, names) {
        grouped.entry(row.kind).or_insert(row.message);
    }
    grouped
}

/// What the decisive status is, for the report, and whether a pod status is it.
type Decisive = (&'static str, fn(&Value) -> bool);

/// The decisive status of the failure rollwatch named with `code`; None for codes no pod
/// status carries (a Job's BackoffLimitExceeded is decided by its controller's count of failed
/// pods, a write of the Job).
fn decisive(code: &str) -> Option<Decisive> {
    fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
        ["initContainerStatuses", "containerStatuses"].into_iter().flat_map(|key| pod["status"][key].as_array().into_iter().flatten())
    }
    fn terminated(pod: &Value) -> impl Iterator<Item = &Value> {
        containers(pod).flat_map(|c| [&c["state"]["terminated"], &c["lastState"]["terminated"]]).filter(|t| t.is_object())
    }
    // With `--allowed-restarts 0` a crash decides once a container has restarted (a non-zero exit
    // alone is not beyond the allowed restarts while the container is restarted).
    fn restarted(pod: &Value) -> bool {
        containers(pod).any(|c| c["restartCount"].as_i64().unwrap_or(0) > 0)
    }
    Some(match code {
        "ErrImagePull" => ("first status with `waiting(ErrImagePull)`", |pod| containers(pod).any(|c| c["state"]["waiting"]["reason"] == "ErrImagePull")),
        "ImagePullBackOff" => {
            ("first status with `waiting(ImagePullBackOff)`", |pod| containers(pod).any(|c| c["state"]["waiting"]["reason"] == "ImagePullBackOff"))
        }
        "CreateContainerConfigError" => ("first status with `waiting(CreateContainerConfigError)`", |pod| {
            containers(pod).any(|c| c["state"]["waiting"]["reason"] == "CreateContainerConfigError")
        }),
        "CrashLoopBackOff" => {
            ("first status with `waiting(CrashLoopBackOff)`", |pod| containers(pod).any(|c| c["state"]["waiting"]["reason"] == "CrashLoopBackOff"))
        }
        "OOMKilled" => {
            ("first status with a restart after an `OOMKilled` termination", |pod| restarted(pod) && terminated(pod).any(|t| t["reason"] == "OOMKilled"))
        }
        "NonZeroExit" => ("first status with a restart after a non-zero exit", |pod| {
            restarted(pod) && terminated(pod).any(|t| t["exitCode"].as_i64().is_some_and(|code| code != 0))
        }),
        "LivenessProbeFailed" => ("first status with a restart", restarted),
        "ReadinessProbeFailing" => ("first status with the container running (the probe's window and the 15 s grace follow)", |pod| {
            containers(pod).any(|c| c["state"]["running"].is_object() && c["ready"] == false)
        }),
        _ => return None,
    })
}

/// ms from the decisive status to rollwatch's exit, for a failed verdict.
fn latency(run: &WorldRun) -> Option<(i64, &'static str)> {
    let verdict = run.verdicts.iter().find(|v| v.result == "failed")?;
    let (what, shows) = decisive(verdict.code.as_deref()?)?;
    let first = run.seen.iter().find(|s| shows(&s.pod))?;
    Some((verdict.exited_ms - first.at_ms, what))
}

fn verdicts(run: &WorldRun) -> String {
    let one = |v: &Verdict| match &v.code {
        Some(code) => format!("{} ({code})", v.result),
        None => v.result.clone(),
    };
    run.verdicts.iter().map(one).collect::<Vec<_>>().join(" → ")
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// The differences between the worlds in one scenario, as sentences.
fn differences(real: &WorldRun, simulated: &WorldRun) -> Vec<String> {
    let mut found = Vec::new();
    let (real_verdicts, simulated_verdicts) = (verdicts(real), verdicts(simulated));
    if real_verdicts != simulated_verdicts {
        found.push(format!("verdict: real {real_verdicts}, simulated {simulated_verdicts}"));
    }
    let (real_names, simulated_names) = (Names::of(real), Names::of(simulated));
    let shapes = |run: &WorldRun, names: &Names| -> BTreeSet<String> { traces(run, names).into_iter().flat_map(|t| t.shapes).collect() };
    let (real_shapes, simulated_shapes) = (shapes(real, &real_names), shapes(simulated, &simulated_names));
    for shape in real_shapes.difference(&simulated_shapes) {
        found.push(format!("status only on the real node: `{shape}`"));
    }
    for shape in simulated_shapes.difference(&real_shapes) {
        found.push(format!("status only on the simulator: `{shape}`"));
    }
    let (real_events, simulated_events) = (pod_events(real, &real_names), pod_events(simulated, &simulated_names));
    for (key, message) in &real_events {
        match simulated_events.get(key) {
            None => found.push(format!("event only on the real node: {key} `{}`", shorten(message, 120))),
            Some(simulated) if simulated != message => {
                found.push(format!("wording of {key}: real `{}`, simulated `{}`", shorten(message, 120), shorten(simulated, 120)))
            }
            Some(_) => {}
        }
    }
    for (key, message) in &simulated_events {
        if !real_events.contains_key(key) {
            found.push(format!("event only on the simulator: {key} `{}`", shorten(message, 120)));
        }
    }
    found
}

fn explanation(file: &str, difference: &str) -> Option<&'static str> {
    KNOWN.iter().find(|k| (k.scenarios.is_empty() || k.scenarios.iter().any(|s| file.starts_with(s))) && difference.contains(k.matches)).map(|k| k.why)
}

/// The scenario file's first comment line: what it is.
fn description(file: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("crates/testbed/scenarios").join(file)).unwrap_or_default();
    text.lines().find_map(|line| line.strip_prefix("# ")).unwrap_or_default().to_owned()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
}

pub fn render(runs: &[(String, WorldRun, WorldRun)], minutes: f64, tolerances: &[&str]) -> String {
    let mut out = String::new();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    // scripts/fidelity says what the binary is: the release build it made, or one from the environment.
    let rollwatch = std::env::var("FIDELITY_ROLLWATCH")
        .unwrap_or_else(|_| format!("`{}` (ROLLWATCH_BIN; what build, not known)", std::env::var("ROLLWATCH_BIN").unwrap_or_default()));
    writeln!(out, "# Fidelity: the simulator against a real kubelet\n").unwrap();
    writeln!(
        out,
        "Written by `scripts/fidelity` from a run on {} UTC, load average {} at the end of the run on {cores} cores; \
         the run took {minutes:.1} minutes. rollwatch: {rollwatch}. Do not edit by hand: run it again.\n",
        Timestamp::now().strftime("%Y-%m-%d %H:%M"),
        load_average()
    )
    .unwrap();
    writeln!(
        out,
        "Every scenario of `crates/testbed/scenarios/` ran at once in both worlds, each in a namespace of its own: on the \
         simulator's nodes (`rollwatch-sim`, its behaviour annotation) and on a real node (kubelet v1.20.2, containerd, runc; \
         the scenario's real command), with `rollwatch apply -f - -o json {}` (a second apply with the image's second tag \
         for the updates). A `kubectl get pods -w` started before the pods existed records each pod's distinct statuses, \
         with the time since it first saw the pod (its creation), for at least {} s; the Events about the pods are read at \
         the end. Each distinct Event (type, reason and message; the same one about several pods is one row, its counts \
         added) is listed with its count and when it was first (and, when repeated, last) seen, in seconds after the \
         scenario's start (its first apply); the API keeps the kubelet's Event times in whole seconds, so these are good to \
         within a second, and Events of the same second are listed in the API's order, not always the order they happened \
         in. In the status columns, conditions are shown when they say something (Ready always, others when \
         not True, ContainersReady when it differs from Ready); pod names, namespaces, uids and node names in messages read \
         POD, NS, UID and NODE. The first pod of each scenario is shown; the Events and the differences cover every pod. \
         Per world, a status list stops at {MAX_STATUS_ROWS} rows and an Event list at {MAX_EVENT_ROWS}, with the number left out.\n",
        tolerances.join(" "),
        std::env::var("FIDELITY_OBSERVE").unwrap_or_else(|_| "60".into())
    )
    .unwrap();
    writeln!(
        out,
        "**Detection latency** is from the decisive status (the first status the harness's pod watch saw with the failing \
         reason; each scenario says which) to rollwatch's exit; — where no pod status decides (a Job's failure is its \
         controller's write). It follows BENCHMARKS.md's idea (decisive status to exit, tolerances off) but is not its \
         measurement, and the figures do not compare with its percentiles: (1) one sample per scenario and world, not \
         hundreds; (2) the decisive status is timed when the harness's own `kubectl get pods -w` received it, not when the \
         API server acknowledged the write (BENCHMARKS.md reads that from the simulator's log; a real kubelet logs no such \
         time): that watch and rollwatch's receive the write separately on the same loaded cores, so a figure is rollwatch's \
         reaction give or take the difference between the two deliveries (a figure of 0.0 s is under 50 ms); (3) rollwatch runs as \
         `rollwatch apply`, with a 15 s readiness grace BENCHMARKS.md does not set, so never-ready's figure counts from the \
         first status that watch saw with the container running and takes in its probe's failures and that grace, less \
         whatever of them had passed before: it is not a detection latency; (4) all the scenarios run at once in both worlds on {cores} cores shared with other work (the load average \
         above), the simulator's pods mostly failing in the first seconds, while every rollwatch and pod watch of the run is \
         starting, and the real node's later (each scenario gives rollwatch's exit time). They vary from run to run by seconds, in both worlds: read them as \
         whether the real node's detection is of the simulator's order, no more.\n"
    )
    .unwrap();

    writeln!(out, "## Summary\n").unwrap();
    writeln!(out, "| scenario | real node | simulator | detection latency, real | simulator | differences (explained) |").unwrap();
    writeln!(out, "|---|---|---|---|---|---|").unwrap();
    let mut all_differences = Vec::new();
    for (file, real, simulated) in runs {
        let found = differences(real, simulated);
        let explained = found.iter().filter(|d| explanation(file, d).is_some()).count();
        let latency_of = |run: &WorldRun| latency(run).map(|(ms, _)| seconds(ms)).unwrap_or_else(|| "—".into());
        writeln!(
            out,
            "| [{file}](#{}) | {} | {} | {} | {} | {} ({explained}) |",
            file.replace('.', ""),
            verdicts(real),
            verdicts(simulated),
            latency_of(real),
            latency_of(simulated),
            found.len()
        )
        .unwrap();
        all_differences.push((file, found));
    }
    writeln!(out).unwrap();

    for (file, real, simulated) in runs {
        writeln!(out, "## {file}\n\n{}\n", description(file)).unwrap();
        for run in [real, simulated] {
            let who = if run.world == World::Real { "Real node" } else { "Simulator" };
            let latency = latency(run).map(|(ms, what)| format!("; detection latency {} from the {what}", seconds(ms))).unwrap_or_default();
            let exits = run.verdicts.iter().map(|v| format!("+{}", seconds(v.exited_ms - run.started_ms))).collect::<Vec<_>>().join(", ");
            writeln!(out, "- {who}: {} (rollwatch exited at {exits}){latency}", verdicts(run)).unwrap();
        }
        let (real_names, simulated_names) = (Names::of(real), Names::of(simulated));
        let (real_traces, simulated_traces) = (traces(real, &real_names), traces(simulated, &simulated_names));
        writeln!(out, "\nStatuses of the first pod ({} pods in all on the real node, {} on the simulator):\n", real_traces.len(), simulated_traces.len())
            .unwrap();
        writeln!(out, "| # | real node | simulator |\n|---|---|---|").unwrap();
        let rows = |traces: &[PodTrace]| -> Vec<String> {
            traces.first().map(|t| t.statuses.iter().map(|(ms, line)| format!("+{} {line}", seconds(*ms))).collect()).unwrap_or_default()
        };
        let (real_rows, simulated_rows) = (rows(&real_traces), rows(&simulated_traces));
        let longest = real_rows.len().max(simulated_rows.len());
        for i in 0..longest.min(MAX_STATUS_ROWS) {
            writeln!(out, "| {} | {} | {} |", i + 1, real_rows.get(i).map_or("", String::as_str), simulated_rows.get(i).map_or("", String::as_str)).unwrap();
        }
        if longest > MAX_STATUS_ROWS {
            writeln!(out, "| … | {} more | {} more |", real_rows.len().saturating_sub(MAX_STATUS_ROWS), simulated_rows.len().saturating_sub(MAX_STATUS_ROWS))
                .unwrap();
        }
        let (real_events, simulated_events) = (event_rows(real, &real_names), event_rows(simulated, &simulated_names));
        writeln!(out, "\nEvents about the pods, each distinct one with its count, seconds after the scenario's start:\n").unwrap();
        writeln!(out, "| # | real node | simulator |\n|---|---|---|").unwrap();
        let longest = real_events.len().max(simulated_events.len());
        let cell = |rows: &[EventRow], i: usize| rows.get(i).map(event_line).unwrap_or_default();
        for i in 0..longest.min(MAX_EVENT_ROWS) {
            writeln!(out, "| {} | {} | {} |", i + 1, cell(&real_events, i), cell(&simulated_events, i)).unwrap();
        }
        if longest > MAX_EVENT_ROWS {
            writeln!(out, "| … | {} more | {} more |", real_events.len().saturating_sub(MAX_EVENT_ROWS), simulated_events.len().saturating_sub(MAX_EVENT_ROWS))
                .unwrap();
        }
        writeln!(out).unwrap();
    }

    writeln!(out, "## Differences\n").unwrap();
    writeln!(
        out,
        "What the run found different between the worlds (verdicts, status shapes — a status without its messages, times \
         and restart counts —, Events present in one world only, and Events' wording), each with why it does not change a \
         verdict or where it was fixed. A difference marked **not explained** is open.\n"
    )
    .unwrap();
    writeln!(out, "Fixed in the simulator (`crates/sim`) after earlier runs of this report, each with its unit test:\n").unwrap();
    for (what, test) in FIXED {
        writeln!(out, "- {what} (`{test}`).").unwrap();
    }
    writeln!(out, "\nFound in this run:\n").unwrap();
    for (file, found) in all_differences {
        if found.is_empty() {
            writeln!(out, "- **{file}**: none.").unwrap();
            continue;
        }
        writeln!(out, "- **{file}**:").unwrap();
        for difference in found {
            let why = explanation(file, &difference).map_or_else(|| "**not explained**".to_owned(), |why| format!("known: {why}"));
            writeln!(out, "  - {difference} — {why}").unwrap();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run_with_events(events: Vec<Value>) -> WorldRun {
        WorldRun {
            world: World::Simulated,
            namespace: "fid-x-sim-1".into(),
            // 2026-12-01T02:00:00.200Z
            started_ms: 1_796_090_400_200,
            seen: Vec::new(),
            events,
            verdicts: Vec::new(),
        }
    }

    fn event(uid: &str, reason: &str, message: &str, first: &str, last: &str, count: i64) -> Value {
        json!({
            "involvedObject": {"kind": "Pod", "uid": uid},
            "type": "Normal", "reason": reason, "message": message,
            "firstTimestamp": first, "lastTimestamp": last, "count": count,
        })
    }

    #[test]
    fn the_same_event_about_several_pods_is_one_row_in_the_order_first_seen() {
        let run = run_with_events(vec![
            event("b", "Created", "Created container app", "2026-12-01T02:00:09Z", "2026-12-01T02:00:30Z", 2),
            event("a", "Created", "Created container app", "2026-12-01T02:00:04Z", "2026-12-01T02:00:04Z", 1),
            event("a", "Scheduled", "Successfully assigned fid-x-sim-1/app-0 to n1", "2026-12-01T02:00:01Z", "2026-12-01T02:00:01Z", 1),
            json!({"involvedObject": {"kind": "ReplicaSet", "uid": "r"}, "type": "Normal", "reason": "SuccessfulCreate"}),
        ]);
        let rows = event_rows(&run, &Names::of(&run));
        let lines: Vec<String> = rows.iter().map(event_line).collect();
        assert_eq!(
            lines,
            [
                // 02:00:01, 0.8 s after the start: within a second of +1 s.
                "+1 s Normal Scheduled: Successfully assigned NS/app-0 to n1",
                "+4 s Normal Created ×3 on 2 pods, last +30 s: Created container app",
            ]
        );
        assert_eq!(pod_events(&run, &Names::of(&run)).get("Normal Created").map(String::as_str), Some("Created container app"));
    }

    #[test]
    fn a_scheduler_event_is_timed_by_its_event_time() {
        let run = run_with_events(vec![json!({
            "involvedObject": {"kind": "Pod", "uid": "a"},
            "type": "Warning", "reason": "FailedScheduling", "message": "0/4 nodes are available",
            "eventTime": "2026-12-01T02:00:02.900000Z", "series": {"count": 3, "lastObservedTime": "2026-12-01T02:00:12.100000Z"},
        })]);
        let rows = event_rows(&run, &Names::of(&run));
        assert_eq!(rows.iter().map(event_line).collect::<Vec<_>>(), ["+2 s Warning FailedScheduling ×3, last +12 s: 0/4 nodes are available"]);
    }
}
