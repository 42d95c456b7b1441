//! How a verdict is shown: a plain line plus indented reasons, or one document of `-o json`
//! (a JSON line) or `-o yaml` (a YAML document).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use rollwatch_verdict::{ObjectRef, Reason, State, Verdict};
use serde_json::json;

use crate::Output;
use crate::report::{settling_json, settling_left};
use crate::sanitize::{self, inline};

/// Whether a YAML document was printed yet: kubectl puts `---` between documents, not before
/// the first, and a command's documents come from several places (notes, updates, summary).
static YAML_DOCUMENT_PRINTED: AtomicBool = AtomicBool::new(false);

/// `value` as one document of the command's output, without a final newline: a YAML document
/// (after `---` unless it is the first) for `-o yaml`, else a JSON line.
pub fn document(output: Output, value: &serde_json::Value) -> String {
    match output {
        Output::Yaml => {
            let separator = if YAML_DOCUMENT_PRINTED.swap(true, Ordering::Relaxed) { "---\n" } else { "" };
            format!("{separator}{}", sanitize::yaml(value).trim_end_matches('\n'))
        }
        Output::Json | Output::Text | Output::Name => sanitize::json(value),
    }
}

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

/// One verdict's document: kind (with its group for a kind outside the registry), namespace,
/// name, state, message, reasons, progress and settling (as of `now`).
pub fn verdict_document(object: &ObjectRef, verdict: &Verdict, now: Timestamp) -> serde_json::Value {
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
    line
}
