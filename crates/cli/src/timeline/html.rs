//! The timeline as one self-contained HTML file: inline SVG and CSS, no script, no font or
//! image fetched, so it opens anywhere a CI artifact is viewed, offline too. Hover text is SVG
//! `<title>` children, which browsers show without scripts.
//!
//! Layout, per workload: its name, a verdict lane (coloured by state, warning events about the
//! workload or its ReplicaSets as marks), a lane of the waves the model predicted (with a dashed
//! line where it expected the rollout done), then its pods grouped by revision, one lane each,
//! coloured by state, with restarts (circles) and warning events (triangles) as marks. Element
//! classes (`pod-lane`, `mark restart`, `mark warning`, `wave`, `verdict`) name what they draw,
//! for tests and for anyone styling the file.
//!
//! Text from the cluster is escaped for HTML, and `//` is written `/&#47;` so no `http://` of a
//! message reads as an address: the file holds no URL at all.

use std::fmt::Write as _;

use rollwatch_verdict::pod_state::PodState;

use super::{Mark, PodLane, Run, Workload};

const WIDTH: f64 = 1200.0;
const LABEL: f64 = 300.0;
const PLOT: f64 = WIDTH - LABEL - 30.0;
const LANE: f64 = 12.0;
const ROW: f64 = 16.0;
const AXIS: f64 = 24.0;

const STYLE: &str = "body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}h1{font-size:18px;margin:0 0 4px}\
.meta{margin:0 0 8px;color:#555}.legend{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;padding:0;margin:0 0 10px}\
.legend li{white-space:nowrap}.legend span,.legend svg{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}\
.legend span{border:1px solid #0003}svg.timeline{display:block}text{font-size:11px;fill:#222}.workload-name{font-weight:600;font-size:12px}\
.revision-name{fill:#555}.tick{stroke:#ddd}.tick-label{fill:#777;font-size:10px}.predicted-end{stroke:#6a3d9a;stroke-dasharray:4 3}\
.wave{fill:#cab2d6;background:#cab2d6;stroke:#6a3d9a;stroke-width:.5}.mark{stroke:#000;stroke-width:.6}.restart{fill:#fff}.warning{fill:#ff7f00}\
.pending{fill:#d9d9d9;background:#d9d9d9}.unschedulable{fill:#8c6d31;background:#8c6d31}.pulling{fill:#9ecae1;background:#9ecae1}\
.starting{fill:#6baed6;background:#6baed6}.running_not_ready{fill:#fdd835;background:#fdd835}.ready{fill:#2e9d4f;background:#2e9d4f}\
.crash_looping{fill:#d62728;background:#d62728}.terminated{fill:#888;background:#888}.deleted{fill:#f2f2f2;background:#f2f2f2}\
.v-progressing{fill:#fdd835}.v-ready{fill:#2e9d4f}.v-failed{fill:#d62728}.v-unknown,.v-notfound,.v-paused,.v-terminating{fill:#bbb}";

/// The whole file.
pub fn render(run: &Run) -> String {
    let end = domain(run);
    let scale = PLOT / end;
    let x = |at: f64| LABEL + at.clamp(0.0, end) * scale;
    let mut body = String::new();
    let mut y = AXIS;
    for workload in &run.workloads {
        y = draw_workload(&mut body, workload, y, run.end, &x);
    }
    let height = y + 10.0;
    let mut out = String::with_capacity(body.len() + 4096);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rollwatch timeline</title><style>");
    out.push_str(STYLE);
    out.push_str("</style></head><body>\n<h1>rollwatch timeline</h1>\n<p class=\"meta\">");
    let pods = run.pods().count();
    let _ = write!(
        out,
        "{} workload(s), {pods} pod(s), {} from {}; result: {}",
        run.workloads.len(),
        seconds(run.end),
        escape(run.started.as_deref().unwrap_or("?")),
        escape(run.result.as_deref().unwrap_or("unfinished"))
    );
    out.push_str("</p>\n<ul class=\"legend\">");
    for state in PodState::ALL {
        let _ = write!(out, "<li><span class=\"{}\"></span>{}</li>", state.as_str(), state.as_str().replace('_', " "));
    }
    out.push_str("<li><svg width=\"12\" height=\"12\"><circle class=\"mark restart\" cx=\"6\" cy=\"6\" r=\"4\"/></svg> restart</li>");
    out.push_str("<li><svg width=\"12\" height=\"12\"><path class=\"mark warning\" d=\"M6 1L11 11H1Z\"/></svg> warning event</li>");
    out.push_str("<li><span class=\"wave\"></span>predicted wave</li></ul>\n");
    let _ = write!(
        out,
        "<svg class=\"timeline\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"rollout timeline\">"
    );
    axis(&mut out, end, height, &x);
    out.push_str(&body);
    out.push_str("</svg>\n</body></html>\n");
    out
}

/// Seconds the picture spans: the run, or the predicted end if later.
fn domain(run: &Run) -> f64 {
    let predicted = run.workloads.iter().filter_map(|w| w.plan.as_ref()).map(|p| p.from + p.total).fold(0.0, f64::max);
    run.end.max(predicted).max(1.0)
}

fn axis(out: &mut String, end: f64, height: f64, x: &dyn Fn(f64) -> f64) {
    let step = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0].into_iter().find(|step| end / step <= 12.0).unwrap_or(7200.0);
    out.push_str("<g class=\"axis\">");
    let mut at = 0.0;
    while at <= end {
        let left = x(at);
        let _ = write!(
            out,
            "<line class=\"tick\" x1=\"{left:.1}\" x2=\"{left:.1}\" y1=\"14\" y2=\"{height}\"/><text class=\"tick-label\" x=\"{left:.1}\" y=\"11\">{}</text>",
            seconds(at)
        );
        at += step;
    }
    out.push_str("</g>");
}

fn draw_workload(out: &mut String, workload: &Workload, top: f64, run_end: f64, x: &dyn Fn(f64) -> f64) -> f64 {
    let mut y = top + 6.0;
    let namespace = workload.namespace.as_deref().map(|n| format!(" (namespace {})", escape(n))).unwrap_or_default();
    let _ = write!(out, "<g class=\"workload\" data-workload=\"{}\">", escape(&workload.name));
    let _ = write!(out, "<text class=\"workload-name\" x=\"4\" y=\"{:.1}\">{}{namespace}</text>", y + 11.0, escape(&workload.name));
    y += ROW;
    // The verdict lane.
    let _ = write!(out, "<g class=\"verdict-lane\"><text x=\"16\" y=\"{:.1}\">verdict</text>", y + 10.0);
    for (index, mark) in workload.verdicts.iter().enumerate() {
        let until = workload.verdicts.get(index + 1).map_or(run_end, |next| next.at);
        let title = format!("{} from {} to {}", mark.text, seconds(mark.at), seconds(until));
        span(out, &format!("verdict v-{}", mark.what), x(mark.at), x(until), y, &title);
    }
    for mark in &workload.warnings {
        warning(out, x(mark.at), y, mark);
    }
    out.push_str("</g>");
    y += ROW;
    if let Some(plan) = &workload.plan {
        let _ = write!(out, "<g class=\"plan-lane\"><text x=\"16\" y=\"{:.1}\">predicted</text>", y + 10.0);
        let count = plan.waves.len();
        for (index, (starts, available, pods)) in plan.waves.iter().enumerate() {
            let title = format!(
                "predicted wave {} of {}: {pods} new pod(s), from {} to {} ({})",
                index + 1,
                count as u64 + plan.more_waves,
                seconds(plan.from + starts),
                seconds(plan.from + available),
                plan.strategy
            );
            span(out, "wave", x(plan.from + starts), x(plan.from + available), y, &title);
        }
        if plan.more_waves > 0 {
            let from = plan.waves.last().map_or(0.0, |w| w.1);
            let title = format!("{} more predicted waves, until {}", plan.more_waves, seconds(plan.from + plan.total));
            span(out, "wave", x(plan.from + from), x(plan.from + plan.total), y, &title);
        }
        out.push_str("</g>");
        y += ROW;
    }
    let plan_top = y - ROW;
    for revision in &workload.revisions {
        let name = if revision.name.is_empty() { "(no revision label)".to_string() } else { format!("revision {}", escape(&revision.name)) };
        let _ = write!(
            out,
            "<g class=\"revision\" data-revision=\"{}\"><text class=\"revision-name\" x=\"16\" y=\"{:.1}\">{name}</text>",
            escape(&revision.name),
            y + 11.0
        );
        y += ROW;
        for pod in &revision.pods {
            pod_lane(out, pod, y, run_end, x);
            y += ROW;
        }
        out.push_str("</g>");
    }
    // The predicted end, down through the workload's pods.
    if let Some(plan) = &workload.plan {
        let done = x(plan.from + plan.total);
        let _ = write!(
            out,
            "<line class=\"predicted-end\" x1=\"{done:.1}\" x2=\"{done:.1}\" y1=\"{plan_top:.1}\" y2=\"{y:.1}\"><title>predicted done at {}</title></line>",
            seconds(plan.from + plan.total)
        );
    }
    out.push_str("</g>");
    y + 6.0
}

fn pod_lane(out: &mut String, pod: &PodLane, y: f64, run_end: f64, x: &dyn Fn(f64) -> f64) {
    let _ = write!(out, "<g class=\"pod-lane\" data-pod=\"{}\"><text x=\"28\" y=\"{:.1}\">{}</text>", escape(&pod.name), y + 10.0, escape(&pod.name));
    for (index, (at, state, detail)) in pod.states.iter().enumerate() {
        let until = pod.states.get(index + 1).map_or(run_end, |next| next.0);
        let mut title = format!("{}: {} from {} to {}", pod.name, state.as_str().replace('_', " "), seconds(*at), seconds(until));
        if let Some(detail) = detail {
            let _ = write!(title, ": {detail}");
        }
        span(out, state.as_str(), x(*at), x(until), y, &title);
    }
    for mark in &pod.restarts {
        let _ = write!(
            out,
            "<circle class=\"mark restart\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>{}</title></circle>",
            x(mark.at),
            y + LANE / 2.0,
            escape(&mark.text)
        );
    }
    for mark in &pod.warnings {
        warning(out, x(mark.at), y, mark);
    }
    out.push_str("</g>");
}

/// A bar from `left` to `right` (at least a pixel wide, so a short state shows).
fn span(out: &mut String, class: &str, left: f64, right: f64, y: f64, title: &str) {
    let width = (right - left).max(1.0);
    let _ = write!(out, "<rect class=\"{class}\" x=\"{left:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{LANE}\"><title>{}</title></rect>", escape(title));
}

fn warning(out: &mut String, at: f64, y: f64, mark: &Mark) {
    let _ = write!(out, "<path class=\"mark warning\" d=\"M{at:.1} {:.1}l5 9h-10z\"><title>{}</title></path>", y + 1.5, escape(&mark.text));
}

/// `1m05s`, `12.5s`.
fn seconds(at: f64) -> String {
    if at < 60.0 {
        let text = format!("{at:.1}");
        format!("{}s", text.strip_suffix(".0").unwrap_or(&text))
    } else {
        let whole = at.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// Text for HTML (element content and attribute values alike), with no `//` left to read as a
/// URL.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous = '\0';
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '/' if previous == '/' => out.push_str("&#47;"),
            // Control characters have no place in a title; the rest of Unicode is fine in UTF-8.
            c if c.is_control() && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
        previous = character;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::tests::failing_run;
    use serde_json::json;

    #[test]
    fn the_picture_has_a_lane_per_pod_marks_for_restarts_and_warnings_and_the_predicted_waves() {
        let html = render(&Run::from_lines(&failing_run()).unwrap());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("class=\"pod-lane\"").count(), 1);
        assert_eq!(html.matches("class=\"mark restart\"").count(), 2 + 1, "two restarts and the legend's");
        assert_eq!(html.matches("class=\"mark warning\"").count(), 1 + 1, "one warning and the legend's");
        assert_eq!(html.matches("<rect class=\"wave\"").count(), 2);
        assert_eq!(html.matches("<rect class=\"verdict v-").count(), 2);
        assert!(html.contains("<title>web-abc-1: restart 2 (container app: Error, exit code 3)</title>"), "{html}");
        assert!(html.contains("Warning BackOff on Pod/web-abc-1"));
        for fetching in ["<script", "http:", "https:", "url(", "@import", "src=", "href="] {
            assert!(!html.contains(fetching), "{fetching} in the file");
        }
    }

    #[test]
    fn text_from_the_cluster_is_escaped_and_no_url_survives() {
        let mut lines = failing_run();
        lines[6]["message"] = json!("Readiness probe failed: Get \"http://10.0.0.7:8080/healthz\": <b>x</b> & more");
        let html = render(&Run::from_lines(&lines).unwrap());
        assert!(html.contains("Get &quot;http:/&#47;10.0.0.7:8080/healthz&quot;: &lt;b&gt;x&lt;/b&gt; &amp; more"), "{html}");
        assert!(!html.contains("http://"));
        assert_eq!(escape("a\u{1b}[31mb"), "a\u{fffd}[31mb");
    }

    #[test]
    fn times_read_as_seconds_then_minutes() {
        assert_eq!(seconds(0.0), "0s");
        assert_eq!(seconds(12.25), "12.2s");
        assert_eq!(seconds(65.0), "1m05s");
    }
}
