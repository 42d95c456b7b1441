//! The end of a run in text: per object its result, and for those not ready the explanation
//! (reasons, container logs, warning events), then one line with the totals and exit code.
//! Plain lines give each object a headline; on a terminal the results are a small table
//! instead ([`table_lines`]), so a long message is shown once, in the explanation.

use rollwatch_tracker::{End, Explanation, ObjectOutcome, Outcome};
use rollwatch_verdict::State;

use super::{Names, short_duration};
use crate::sanitize::{self, inline};

/// The summary as lines, without trailing newlines.
pub fn lines(outcome: &Outcome, exit_code: u8, names: &Names) -> Vec<String> {
    let mut lines = Vec::new();
    for object in &outcome.objects {
        lines.push(headline(object, &outcome.end, names));
        if let Some(explanation) = &object.explanation {
            explain(explanation, names, &mut lines);
        }
    }
    lines.push(totals(outcome, exit_code));
    lines
}

/// The summary for a terminal: a table of object, verdict, reason and time of the last change,
/// then the explanation of each object not ready under its name, then the totals.
pub fn table_lines(outcome: &Outcome, exit_code: u8, names: &Names) -> Vec<String> {
    let header = ["OBJECT", "VERDICT", "REASON", "TIME"].map(String::from);
    let rows: Vec<[String; 4]> = outcome
        .objects
        .iter()
        .map(|object| {
            let reason = object.verdict.reasons.first().filter(|_| !object.reached).map_or("-".to_string(), |reason| inline(reason.code.as_str()));
            [names.of(&object.object), state_word(object.verdict.state).to_string(), reason, short_duration(object.last_change)]
        })
        .collect();
    let mut widths = header.clone().map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 4]| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut lines = vec![line(&header)];
    lines.extend(rows.iter().map(line));
    for object in &outcome.objects {
        if let Some(explanation) = &object.explanation {
            lines.push(format!("{}:", names.of(&object.object)));
            explain(explanation, names, &mut lines);
        }
    }
    lines.push(totals(outcome, exit_code));
    lines
}

/// The summary's lines with the text timeline's rows before the totals, which stay last.
pub fn with_waves(mut lines: Vec<String>, waves: Vec<String>) -> Vec<String> {
    let totals = lines.pop();
    lines.extend(waves);
    lines.extend(totals);
    lines
}

fn headline(object: &ObjectOutcome, end: &End, names: &Names) -> String {
    let label = match (object.reached, object.verdict.state, end) {
        (true, _, _) => "READY",
        (false, State::Failed | State::NotFound, _) => "FAILED",
        (false, _, End::TimedOut) => "TIMED OUT",
        (false, State::Paused, _) => "PAUSED",
        (false, _, _) => "NOT READY",
    };
    let verdict = &object.verdict;
    format!(
        "{label} {} ({}, last change at {}): {}",
        names.of(&object.object),
        state_word(verdict.state),
        short_duration(object.last_change),
        inline(&verdict.message)
    )
}

pub fn state_word(state: State) -> &'static str {
    match state {
        State::Ready => "Ready",
        State::Progressing => "Progressing",
        State::Failed => "Failed",
        State::Paused => "Paused",
        State::Terminating => "Terminating",
        State::NotFound => "NotFound",
        State::Unknown => "Unknown",
    }
}

fn explain(explanation: &Explanation, names: &Names, lines: &mut Vec<String>) {
    for detail in &explanation.details {
        let reason = &detail.reason;
        let mut what = names.of(&reason.object);
        if let Some(container) = &reason.container {
            what.push_str(&format!(", container {}", inline(container)));
        }
        let exit = reason.exit_code.map(|code| format!(" (exit code {code})")).unwrap_or_default();
        lines.push(format!("  {what}: {}{exit}: {}", inline(reason.code.as_str()), inline(&reason.message)));
        if let Some(state) = &detail.container
            && let Some(ended) = &state.last_termination
        {
            let why = ended.reason.as_deref().map(|r| format!("{}, ", inline(r))).unwrap_or_default();
            let at = ended.finished_at.map(|t| format!(" at {}", super::timestamp(t))).unwrap_or_default();
            let message = ended.message.as_deref().map(|m| format!(": {}", inline(m))).unwrap_or_default();
            lines.push(format!("    last ended: {why}exit code {}{at}{message} ({})", ended.exit_code, restarts(state.restarts)));
        }
        if let Some(problem) = &detail.container_unavailable {
            lines.push(format!("    state of the pod unavailable: {}", inline(problem)));
        }
        if let Some(logs) = &detail.logs {
            let instance = if logs.previous { "previous instance" } else { "current instance" };
            let container = inline(&logs.container);
            match &logs.unavailable {
                Some(problem) => lines.push(format!("    logs of container {container} unavailable: {}", inline(problem))),
                None if logs.lines.is_empty() => lines.push(format!("    container {container} logged nothing ({instance})")),
                None => {
                    let cut = if logs.cut_at_byte_limit {
                        format!(", cut at {} KiB: the newest lines may be missing", rollwatch_tracker::LOG_LIMIT_BYTES / 1024)
                    } else {
                        String::new()
                    };
                    lines.push(format!("    last {} log lines of container {container} ({instance}{cut}):", logs.lines.len()));
                    // One line per log line, each escaped and capped: a log is the container's to write.
                    lines.extend(logs.lines.iter().map(|line| format!("      | {}", inline(line))));
                }
            }
        }
    }
    if !explanation.events.is_empty() {
        lines.push("  warning events:".to_string());
        for event in &explanation.events {
            let count = if event.count > 1 { format!(" (x{})", event.count) } else { String::new() };
            let at = event.last_seen.map(|t| format!("{} ", super::timestamp(t))).unwrap_or_default();
            lines.push(format!("    {at}{} {}: {}{count}", names.of(&event.object), inline(&event.reason), inline(&event.message)));
        }
    }
}

fn totals(outcome: &Outcome, exit_code: u8) -> String {
    let count = |wanted: fn(&ObjectOutcome) -> bool| outcome.objects.iter().filter(|o| wanted(o)).count();
    let ready = count(|o| o.reached);
    let failed = count(|o| !o.reached && matches!(o.verdict.state, State::Failed | State::NotFound));
    let waiting = outcome.objects.len() - ready - failed;
    let how = match &outcome.end {
        End::Ready => "all ready".to_string(),
        End::Failed => "a rollout failed".to_string(),
        End::NotReady => "not ready".to_string(),
        End::TimedOut => "timed out".to_string(),
        End::Interrupted => "interrupted".to_string(),
        End::Error(error) => format!("error: {}", sanitize::lines(&error.to_string())),
        _ => "ended".to_string(),
    };
    format!("{how} after {}: {ready} ready, {failed} failed, {waiting} not ready (exit code {exit_code})", short_duration(outcome.elapsed))
}

/// A restart count in words ("restarted 1 times" read badly, "restarted 0 times" worse).
fn restarts(count: i32) -> String {
    match count {
        0 => "not restarted".to_string(),
        1 => "restarted once".to_string(),
        count => format!("restarted {count} times"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollwatch_tracker::{Detail, Explanation};
    use rollwatch_verdict::{ObjectRef, Reason, Verdict};
    use std::time::Duration;

    fn object(text: &str) -> ObjectRef {
        text.parse::<ObjectRef>().unwrap().in_namespace("shop")
    }

    #[test]
    fn on_a_terminal_the_end_is_a_table_and_each_long_message_is_shown_once() {
        let message = "container app exited with code 3: Error (restarted 0 times); its pod had been ready for less than the 10s settle window";
        let reason = Reason::new("NonZeroExit", object("pod/checkout-7d9f-x2x"), message);
        let failed = Verdict::new(State::Failed, format!("deployment \"checkout\" failed: {message}")).with_reasons(vec![reason.clone()]);
        let outcome = Outcome {
            end: End::Failed,
            elapsed: Duration::from_secs(75),
            objects: vec![
                ObjectOutcome {
                    object: object("deployment/checkout"),
                    verdict: failed,
                    reached: false,
                    last_change: Duration::from_secs(72),
                    explanation: Some(Explanation {
                        details: vec![Detail { reason, container: None, container_unavailable: None, logs: None }],
                        events: vec![],
                    }),
                },
                ObjectOutcome {
                    object: object("statefulset/db"),
                    verdict: Verdict::new(State::Ready, "partitioned roll out complete"),
                    reached: true,
                    last_change: Duration::from_secs(9),
                    explanation: None,
                },
            ],
        };
        let lines = table_lines(&outcome, 1, &Names { namespace: "shop".into() });
        assert_eq!(
            lines[..4],
            [
                "OBJECT               VERDICT  REASON       TIME",
                "deployment/checkout  Failed   NonZeroExit  1m12s",
                "statefulset/db       Ready    -            9s",
                "deployment/checkout:",
            ]
        );
        assert_eq!(lines.last().unwrap(), "a rollout failed after 1m15s: 1 ready, 1 failed, 0 not ready (exit code 1)");
        assert_eq!(lines.iter().filter(|line| line.contains(message)).count(), 1, "{lines:#?}");
    }
}
