//! How a verdict is shown: a plain line plus indented reasons, or one JSON object per line.

use std::fmt::Write as _;

use jiff::Timestamp;
use rollwatch_verdict::{ObjectRef, Reason, State, Verdict};
use serde_json::json;

use crate::report::{settling_json, settling_left};
use crate::sanitize::{self, inline};

/// `deployment/web (shop): failed: <message>` and one indented line per reason; a rollout in its
/// settle window says how long is left as of `now`.
pub fn text(object: &ObjectRef, verdict: &Verdict, now: Timestamp) -> String {
    let namespace = object.namespace.as_deref().map(|ns| format!(" ({})", inline(ns))).unwrap_or_default();
    let mut out = format!("{}{namespace}: {}: {}", inline(&object.to_string()), state_word(verdict.state), inline(&verdict.message));
    if let Some(left) = settling_left(verdict, now) {
        let _ = write!(out, " ({left})");
    }
    for reason in &verdict.reasons {
        let _ = write!(out, "\n  - {}", reason_text(reason));
    }
    out
}

/// `ImagePullBackOff: pod/web-1 (container app, exit code 1): <the cluster's message>`.
fn reason_text(reason: &Reason) -> String {
    let mut details = Vec::new();
    if let Some(container) = &reason.container {
        details.push(format!("container {}", inline(container)));
    }
    if let Some(exit_code) = reason.exit_code {
        details.push(format!("exit code {exit_code}"));
    }
    let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join(", ")) };
    format!("{}: {}{details}: {}", inline(reason.code.as_str()), inline(&reason.object.to_string()), inline(&reason.message))
}

fn state_word(state: State) -> &'static str {
    match state {
        State::Ready => "ready",
        State::Progressing => "progressing",
        State::Failed => "failed",
        State::Paused => "paused",
        State::Terminating => "terminating",
        State::NotFound => "not found",
        State::Unknown => "unknown",
    }
}

/// One JSON object: kind (with its group for a kind outside the registry), namespace, name,
/// state, message, reasons, progress and settling (as of `now`).
pub fn json_line(object: &ObjectRef, verdict: &Verdict, now: Timestamp) -> String {
    let mut line = json!({
        "kind": object.kind,
        "namespace": object.namespace,
        "name": object.name,
        "state": verdict.state,
        "message": verdict.message,
        "reasons": verdict.reasons,
        "progress": verdict.progress,
        "settling": settling_json(verdict, now),
    });
    if let Some(group) = object.shown_group() {
        line["group"] = json!(group);
    }
    sanitize::json(&line)
}
