//! The timeline picture of a run: what happened to each workload and its pods over time, read
//! from the run's JSON lines (`-o json`, or recorded by `--timeline`), and drawn as one
//! self-contained HTML file ([`html`]); and the compact text rows of a terminal's summary
//! ([`text`]), from the verdict changes alone.
//!
//! Presentation only: the lines in, a [`Run`] of lanes and marks out, no I/O. Times are seconds
//! since the first line: within one tracking run they come from `elapsed_seconds` (exact), and
//! each tracking run (a rollback's recovery starts a new one) is placed by its lines' `time`.

pub mod command;
pub mod html;
pub mod text;

use rollwatch_verdict::pod_state::PodState;
use serde_json::Value;

/// One run, as lanes.
#[derive(Debug, Default)]
pub struct Run {
    /// When the first line was written (`2026-11-30T10:00:00Z`).
    pub started: Option<String>,
    /// Seconds from the first line to the last.
    pub end: f64,
    /// The summary's result (`ready`, `failed`, ...), if the run got that far.
    pub result: Option<String>,
    pub workloads: Vec<Workload>,
}

/// A tracked object, with its verdict lane, the waves the model predicted and its pods.
#[derive(Debug)]
pub struct Workload {
    /// `Deployment/web`.
    pub name: String,
    pub namespace: Option<String>,
    /// The object as the lines name it, to tell workloads apart.
    key: String,
    /// Verdict changes: when, the state (`progressing`, ...) and the message.
    pub verdicts: Vec<Mark>,
    /// Warning events about the workload itself or a ReplicaSet (events about a pod go on its lane).
    pub warnings: Vec<Mark>,
    pub plan: Option<Plan>,
    pub revisions: Vec<Revision>,
}

/// Something at one moment, with its hover text.
#[derive(Debug, Clone)]
pub struct Mark {
    pub at: f64,
    /// A state for a verdict mark; the reason for a warning; `restart` for a restart.
    pub what: String,
    pub text: String,
}

/// What the duration model expected, from when tracking first saw the rollout.
#[derive(Debug)]
pub struct Plan {
    pub from: f64,
    pub strategy: String,
    /// Each wave's start and when its pods are expected available, in seconds since `from`.
    pub waves: Vec<(f64, f64, u32)>,
    /// Waves alike beyond [`MAX_DRAWN_WAVES`] are not listed one by one.
    pub more_waves: u64,
    pub total: f64,
}

/// At most this many predicted waves are drawn one by one; the rest as one band.
pub const MAX_DRAWN_WAVES: usize = 200;

#[derive(Debug)]
pub struct Revision {
    /// The pod-template-hash or controller-revision-hash (empty when the pods have none).
    pub name: String,
    pub pods: Vec<PodLane>,
}

#[derive(Debug)]
pub struct PodLane {
    pub name: String,
    /// Each state from when it began; a state lasts until the next one or the end of the run.
    pub states: Vec<(f64, PodState, Option<String>)>,
    pub restarts: Vec<Mark>,
    pub warnings: Vec<Mark>,
    restart_count: u64,
}

/// A line that is not what a run's JSON lines hold.
#[derive(Debug, PartialEq)]
pub struct LineError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// Where each tracking run's `elapsed_seconds` start, in seconds since the first line.
#[derive(Default)]
struct Clock {
    first: Option<jiff::Timestamp>,
    offset: f64,
    last_elapsed: Option<f64>,
    last: f64,
}

impl Clock {
    fn at(&mut self, line: &Value) -> Result<f64, String> {
        let time = match line.get("time") {
            Some(Value::String(text)) => Some(text.parse::<jiff::Timestamp>().map_err(|e| format!("field \"time\": {e}"))?),
            None | Some(Value::Null) => None,
            Some(_) => return Err("field \"time\" is not a string".into()),
        };
        let first = *self.first.get_or_insert(time.unwrap_or(jiff::Timestamp::UNIX_EPOCH));
        let wall = time.map_or(self.last, |time| time.duration_since(first).as_secs_f64());
        let at = match line.get("elapsed_seconds").and_then(Value::as_f64) {
            // Only lines of a tracking run's updates carry it; the summary's is the whole run.
            Some(elapsed) if line.get("event").and_then(Value::as_str) != Some("summary") => {
                // A new tracking run starts its elapsed time over.
                if self.last_elapsed.is_none_or(|last| elapsed + 1.0 < last) {
                    self.offset = (wall - elapsed).max(0.0);
                }
                self.last_elapsed = Some(elapsed);
                self.offset + elapsed
            }
            _ => wall,
        };
        self.last = self.last.max(at);
        Ok(at)
    }
}

impl Run {
    /// The run from its lines, numbered from 1. Lines of events a timeline does not draw (notes,
    /// trouble, ...) only move time on; an unknown event is skipped, for lines of a later version.
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = &'a Value>) -> Result<Run, LineError> {
        Self::from_numbered(lines.into_iter().enumerate().map(|(index, line)| (index + 1, line)))
    }

    /// The run from `(line number, line)` pairs; the first line that does not read names itself.
    pub fn from_numbered<'a>(lines: impl IntoIterator<Item = (usize, &'a Value)>) -> Result<Run, LineError> {
        let mut run = Run::default();
        let mut clock = Clock::default();
        for (number, line) in lines {
            run.take(line, &mut clock).map_err(|message| LineError { line: number, message })?;
        }
        run.started = clock.first.filter(|first| *first != jiff::Timestamp::UNIX_EPOCH).map(|first| first.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        run.end = clock.last;
        Ok(run)
    }

    fn take(&mut self, line: &Value, clock: &mut Clock) -> Result<(), String> {
        let Some(event) = line.get("event").and_then(Value::as_str) else {
            return Err("not a line of a run: no \"event\" field".into());
        };
        let at = clock.at(line)?;
        match event {
            "verdict" => {
                let workload = self.workload(field(line, "object")?);
                let state = string(line, "state")?;
                let text = format!("{}: {}", state, line.get("message").and_then(Value::as_str).unwrap_or_default());
                workload.verdicts.push(Mark { at, what: state.to_ascii_lowercase(), text });
            }
            "planned_waves" => {
                let estimate = field(line, "estimate")?;
                let plan = plan(estimate, at)?;
                self.workload(field(line, "workload")?).plan = Some(plan);
            }
            "pod" => {
                let state_name = string(line, "state")?;
                let state = PodState::from_name(state_name).ok_or_else(|| format!("field \"state\": unknown pod state {state_name:?}"))?;
                let pod = name_of(field(line, "object")?)?;
                let revision = line.get("revision").and_then(Value::as_str).unwrap_or_default().to_string();
                let restarts = line.get("restarts").and_then(Value::as_u64).unwrap_or(0);
                let detail = line.get("detail").and_then(Value::as_str).map(str::to_string);
                let last_exit = line.get("last_exit").and_then(Value::as_str);
                let lane = self.workload(field(line, "workload")?).lane(&revision, &pod);
                if restarts > lane.restart_count {
                    let text = match last_exit {
                        Some(exit) => format!("{pod}: restart {restarts} ({exit})"),
                        None => format!("{pod}: restart {restarts}"),
                    };
                    lane.restarts.push(Mark { at, what: "restart".into(), text });
                }
                lane.restart_count = lane.restart_count.max(restarts);
                lane.states.push((at, state, detail));
            }
            "warning_event" => {
                let object = field(line, "object")?;
                let reason = string(line, "reason")?.to_string();
                let count = line.get("count").and_then(Value::as_u64).unwrap_or(1);
                let about = format!("{}/{}", object.get("kind").and_then(Value::as_str).unwrap_or("?"), name_of(object)?);
                let message = line.get("message").and_then(Value::as_str).unwrap_or_default();
                let text = format!("Warning {reason} on {about} (\u{d7}{count}): {message}");
                let mark = Mark { at, what: reason, text };
                let workload = self.workload(field(line, "workload")?);
                let is_pod = object.get("kind").and_then(Value::as_str) == Some("Pod");
                let pod = name_of(object)?;
                match workload.revisions.iter_mut().flat_map(|r| r.pods.iter_mut()).find(|lane| is_pod && lane.name == pod) {
                    Some(lane) => lane.warnings.push(mark),
                    None => workload.warnings.push(mark),
                }
            }
            "summary" => self.result = line.get("result").and_then(Value::as_str).map(str::to_string),
            _ => {}
        }
        Ok(())
    }

    /// The workload an object names, added at first mention.
    fn workload(&mut self, object: &Value) -> &mut Workload {
        let key = object.to_string();
        match self.workloads.iter().position(|w| w.key == key) {
            Some(index) => &mut self.workloads[index],
            None => {
                let kind = object.get("kind").and_then(Value::as_str).unwrap_or("?");
                let name = object.get("name").and_then(Value::as_str).unwrap_or("?");
                let namespace = object.get("namespace").and_then(Value::as_str).map(str::to_string);
                self.workloads.push(Workload {
                    name: format!("{kind}/{name}"),
                    namespace,
                    key,
                    verdicts: Vec::new(),
                    warnings: Vec::new(),
                    plan: None,
                    revisions: Vec::new(),
                });
                self.workloads.last_mut().expect("just pushed")
            }
        }
    }

    /// Every pod lane, for counting.
    pub fn pods(&self) -> impl Iterator<Item = &PodLane> {
        self.workloads.iter().flat_map(|w| w.revisions.iter().flat_map(|r| r.pods.iter()))
    }
}

impl Workload {
    fn lane(&mut self, revision: &str, pod: &str) -> &mut PodLane {
        let index = match self.revisions.iter().position(|r| r.name == revision) {
            Some(index) => index,
            None => {
                self.revisions.push(Revision { name: revision.to_string(), pods: Vec::new() });
                self.revisions.len() - 1
            }
        };
        let pods = &mut self.revisions[index].pods;
        let lane = match pods.iter().position(|p| p.name == pod) {
            Some(lane) => lane,
            None => {
                pods.push(PodLane { name: pod.to_string(), states: Vec::new(), restarts: Vec::new(), warnings: Vec::new(), restart_count: 0 });
                pods.len() - 1
            }
        };
        &mut pods[lane]
    }
}

fn field<'a>(line: &'a Value, name: &str) -> Result<&'a Value, String> {
    line.get(name).filter(|v| !v.is_null()).ok_or_else(|| format!("a {} line without {name:?}", line["event"].as_str().unwrap_or("?")))
}

fn string<'a>(line: &'a Value, name: &str) -> Result<&'a str, String> {
    field(line, name)?.as_str().ok_or_else(|| format!("field {name:?} is not a string"))
}

fn name_of(object: &Value) -> Result<String, String> {
    object.get("name").and_then(Value::as_str).map(str::to_string).ok_or_else(|| "an object without \"name\"".to_string())
}

/// The plan of an `estimate` (as `rollwatch plan -o json` writes it), from `at`.
fn plan(estimate: &Value, at: f64) -> Result<Plan, String> {
    let seconds = |value: &Value, name: &str| value.get(name).and_then(Value::as_f64).ok_or_else(|| format!("field \"estimate\": no number {name:?}"));
    let mut waves = Vec::new();
    let mut more_waves = 0u64;
    for wave in estimate.get("waves").and_then(Value::as_array).ok_or("field \"estimate\": no \"waves\"")? {
        let (starts, available, every) = (seconds(wave, "starts_at_seconds")?, seconds(wave, "available_at_seconds")?, seconds(wave, "every_seconds")?);
        let count = wave.get("count").and_then(Value::as_u64).unwrap_or(1);
        let pods = wave.get("pods").and_then(Value::as_u64).and_then(|p| u32::try_from(p).ok()).unwrap_or(0);
        for index in 0..count {
            if waves.len() >= MAX_DRAWN_WAVES {
                more_waves += count - index;
                break;
            }
            let shift = every * index as f64;
            waves.push((starts + shift, available + shift, pods));
        }
    }
    let strategy = estimate.get("strategy").and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Plan { from: at, strategy, waves, more_waves, total: seconds(estimate, "total_seconds")? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn web() -> Value {
        json!({"kind": "Deployment", "namespace": "shop", "name": "web"})
    }

    fn pod_line(elapsed: f64, name: &str, state: &str, restarts: u64) -> Value {
        json!({"event": "pod", "time": "2026-11-30T10:00:00Z", "elapsed_seconds": elapsed, "workload": web(),
               "object": {"kind": "Pod", "namespace": "shop", "name": name}, "revision": "abc", "state": state, "restarts": restarts,
               "last_exit": if restarts > 0 { json!("container app: Error, exit code 3") } else { Value::Null }})
    }

    /// A small failing rollout, as `-o json` writes it.
    pub(crate) fn failing_run() -> Vec<Value> {
        vec![
            json!({"event": "dry_run", "time": "2026-11-30T10:00:00Z", "object": null, "message": "server dry run passed for 1 objects"}),
            json!({"event": "planned_waves", "time": "2026-11-30T10:00:00Z", "elapsed_seconds": 0.1, "workload": web(),
                   "estimate": {"workload": "Deployment/web", "strategy": "RollingUpdate maxSurge=1 maxUnavailable=0", "pods_to_update": 2,
                                "waves": [{"pods": 1, "starts_at_seconds": 0.0, "available_at_seconds": 1.0, "count": 2, "every_seconds": 1.0}],
                                "total_seconds": 2.0, "per_pod_ready_seconds": 1.0, "per_pod_available_seconds": 1.0}}),
            json!({"event": "verdict", "time": "2026-11-30T10:00:00Z", "elapsed_seconds": 0.2, "object": web(), "previous_state": null,
                   "state": "Progressing", "message": "Waiting for rollout"}),
            pod_line(0.3, "web-abc-1", "pulling", 0),
            pod_line(1.0, "web-abc-1", "running_not_ready", 0),
            pod_line(4.0, "web-abc-1", "crash_looping", 1),
            json!({"event": "warning_event", "time": "2026-11-30T10:00:05Z", "elapsed_seconds": 5.0, "workload": web(),
                   "object": {"kind": "Pod", "namespace": "shop", "name": "web-abc-1"}, "reason": "BackOff", "message": "Back-off restarting failed container", "count": 1}),
            pod_line(6.0, "web-abc-1", "crash_looping", 2),
            json!({"event": "verdict", "time": "2026-11-30T10:00:07Z", "elapsed_seconds": 7.0, "object": web(), "previous_state": "Progressing",
                   "state": "Failed", "message": "crash loop"}),
            json!({"event": "summary", "time": "2026-11-30T10:00:08Z", "result": "failed", "exit_code": 1, "elapsed_seconds": 7.5, "objects": []}),
        ]
    }

    #[test]
    fn a_run_reads_into_a_workload_with_its_verdicts_plan_and_one_lane_per_pod() {
        let lines = failing_run();
        let run = Run::from_lines(&lines).unwrap();
        assert_eq!(run.result.as_deref(), Some("failed"));
        assert_eq!(run.workloads.len(), 1);
        let web = &run.workloads[0];
        assert_eq!(web.name, "Deployment/web");
        assert_eq!(web.verdicts.iter().map(|m| m.what.as_str()).collect::<Vec<_>>(), ["progressing", "failed"]);
        let plan = web.plan.as_ref().unwrap();
        assert_eq!(plan.waves, [(0.0, 1.0, 1), (1.0, 2.0, 1)]);
        let lane = &web.revisions[0].pods[0];
        assert_eq!((web.revisions[0].name.as_str(), lane.name.as_str()), ("abc", "web-abc-1"));
        assert_eq!(
            lane.states.iter().map(|s| s.1).collect::<Vec<_>>(),
            [PodState::Pulling, PodState::RunningNotReady, PodState::CrashLooping, PodState::CrashLooping]
        );
        assert_eq!(
            lane.restarts.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
            ["web-abc-1: restart 1 (container app: Error, exit code 3)", "web-abc-1: restart 2 (container app: Error, exit code 3)"]
        );
        assert_eq!(lane.warnings.len(), 1);
        assert_eq!(run.end, 8.0, "the summary's time");
    }

    #[test]
    fn a_second_tracking_run_is_placed_after_the_first_by_its_time() {
        let first = json!({"event": "verdict", "time": "2026-11-30T10:00:00Z", "elapsed_seconds": 0.5, "object": web(), "state": "Progressing", "message": ""});
        let failed = json!({"event": "verdict", "time": "2026-11-30T10:00:30Z", "elapsed_seconds": 30.0, "object": web(), "state": "Failed", "message": ""});
        let recovery = json!({"event": "verdict", "time": "2026-11-30T10:00:40Z", "elapsed_seconds": 2.0, "object": web(), "state": "Ready", "message": ""});
        let run = Run::from_lines(&[first, failed, recovery]).unwrap();
        let at: Vec<f64> = run.workloads[0].verdicts.iter().map(|m| m.at).collect();
        assert_eq!(at, [0.5, 30.0, 40.0]);
    }

    #[test]
    fn a_bad_line_is_named_by_its_number_and_what_is_wrong() {
        let lines = [json!({"event": "note", "time": "2026-11-30T10:00:00Z", "message": "hi"}), json!({"event": "pod", "state": "dancing"})];
        let error = Run::from_lines(&lines).unwrap_err();
        assert_eq!(error, LineError { line: 2, message: "field \"state\": unknown pod state \"dancing\"".into() });
        let error = Run::from_numbered([(7, &json!({"state": "x"}))]).unwrap_err();
        assert_eq!(error, LineError { line: 7, message: "not a line of a run: no \"event\" field".into() });
        let error = Run::from_numbered([(3, &json!({"event": "verdict", "time": 5}))]).unwrap_err();
        assert_eq!(error.message, "field \"time\" is not a string");
    }
}
