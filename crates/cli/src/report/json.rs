//! JSON lines (`-o json`) or YAML documents (`-o yaml`): one object per note and verdict change,
//! and a final summary object. A verdict document of a progressing rollout carries its pace (`expected_remaining_seconds`,
//! `slower_than_expected` and the model's figures), and while it waits out its settle window
//! `settling` (`until`, `seconds_left`); they are null otherwise.
//!
//! With what a timeline picture needs (always in `-o json`, see README's "Timeline"): a `pod`
//! line per pod state change or restart, a `warning_event` line per warning event about a tracked
//! workload's family, and a `planned_waves` line with the duration model's waves per rollout.
//! The same lines are what `--timeline` records and `rollwatch timeline` reads back.

use rollwatch_tracker::{ObjectOutcome, Outcome, Update};
use serde_json::{Value, json};

use super::{Note, Reporter, settling_json, timestamp};

pub struct Documents {
    pub output: crate::Output,
}

impl Documents {
    fn emit(&self, value: Value) {
        println!("{}", crate::render::document(self.output, &value));
    }
}

fn now() -> String {
    timestamp(jiff::Timestamp::now())
}

impl Reporter for Documents {
    fn note(&mut self, note: &Note) {
        self.emit(note_line(note));
    }

    fn update(&mut self, update: &Update) {
        if let Some(line) = update_line(update) {
            self.emit(line);
        }
    }

    fn finish(&mut self, outcome: &Outcome, exit_code: u8) {
        self.emit(summary_line(outcome, exit_code));
    }

    fn wants_timeline(&self) -> bool {
        true
    }
}

pub fn note_line(note: &Note) -> Value {
    json!({"event": note.event, "time": now(), "object": note.object, "message": note.message})
}

/// The line of an update; `None` for updates this build does not show.
pub fn update_line(update: &Update) -> Option<Value> {
    Some(match update {
        Update::Verdict(change) => json!({
            "event": "verdict",
            "time": timestamp(change.at),
            "elapsed_seconds": change.elapsed.as_secs_f64(),
            "object": change.object,
            "previous_state": change.previous,
            "state": change.verdict.state,
            "message": change.verdict.message,
            "reasons": change.verdict.reasons,
            "progress": change.verdict.progress,
            "settling": settling_json(&change.verdict, change.at),
            "expected_remaining_seconds": change.pace.map(|pace| pace.remaining().as_secs_f64()),
            "slower_than_expected": change.pace.map(|pace| pace.slower_than_expected()),
            "pace": change.pace,
        }),
        Update::Trouble { feed, message } => json!({"event": "trouble", "time": now(), "feed": feed, "message": message}),
        Update::Note { message } => json!({"event": "note", "time": now(), "message": message}),
        Update::Pod(change) => json!({
            "event": "pod",
            "time": timestamp(change.at),
            "elapsed_seconds": change.elapsed.as_secs_f64(),
            "workload": change.workload,
            "object": change.pod,
            "revision": change.revision,
            "state": change.state,
            "restarts": change.restarts,
            "detail": change.detail,
            "last_exit": change.last_exit,
        }),
        Update::Warning(event) => json!({
            "event": "warning_event",
            "time": timestamp(event.at),
            "elapsed_seconds": event.elapsed.as_secs_f64(),
            "workload": event.workload,
            "object": event.object,
            "reason": event.reason,
            "message": event.message,
            "count": event.count,
        }),
        Update::Waves(planned) => json!({
            "event": "planned_waves",
            "time": timestamp(planned.at),
            "elapsed_seconds": planned.elapsed.as_secs_f64(),
            "workload": planned.workload,
            "estimate": planned.estimate,
        }),
        _ => return None,
    })
}

pub fn summary_line(outcome: &Outcome, exit_code: u8) -> Value {
    let result = match &outcome.end {
        rollwatch_tracker::End::Ready => "ready",
        rollwatch_tracker::End::Failed => "failed",
        rollwatch_tracker::End::NotReady => "not_ready",
        rollwatch_tracker::End::TimedOut => "timed_out",
        rollwatch_tracker::End::Interrupted => "interrupted",
        rollwatch_tracker::End::Error(_) => "error",
        _ => "other",
    };
    let error = match &outcome.end {
        rollwatch_tracker::End::Error(error) => Some(error.message.clone()),
        _ => None,
    };
    json!({
        "event": "summary",
        "time": now(),
        "result": result,
        "exit_code": exit_code,
        "error": error,
        "elapsed_seconds": outcome.elapsed.as_secs_f64(),
        "objects": outcome.objects.iter().map(object_json).collect::<Vec<_>>(),
    })
}

fn object_json(object: &ObjectOutcome) -> Value {
    json!({
        "object": object.object,
        "reached": object.reached,
        "state": object.verdict.state,
        "message": object.verdict.message,
        "reasons": object.verdict.reasons,
        "progress": object.verdict.progress,
        "settling": settling_json(&object.verdict, jiff::Timestamp::now()),
        "last_change_seconds": object.last_change.as_secs_f64(),
        "explanation": object.explanation,
    })
}
