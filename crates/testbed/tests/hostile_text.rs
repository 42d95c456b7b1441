//! Text a container or a cluster user controls — log lines, change causes, pod templates —
//! reaches the terminal and CI logs escaped: no control character gets through and no line can
//! act as a CI workflow command, while JSON output keeps the text exact.
//!
//! The manifests are JSON with the control characters written as escapes: YAML, which rollwatch
//! reads JSON as, does not allow them raw (serde_json escapes only the C0 ones).

use std::time::Duration;

use rollwatch_testbed::{Run, TestNamespace, wait_for};
use serde_json::{Value, json};

/// Generous: the machine is small and busy, and the cluster is real.
const WAIT: Duration = Duration::from_secs(240);

/// Colours, a window title (OSC ... BEL), clear-screen, a C1 CSI, a carriage return, and a
/// GitHub Actions command on a line of its own.
const HOSTILE: &str = "\x1b[31mred\x1b[0m \x1b]0;pwned-title\x07 \x1b[2J \u{9b}6n cr\roverwrite\n::error::pwned";

/// A Deployment of one pod whose container `app` behaves as `behavior` and has `MODE=mode`.
fn deployment(name: &str, behavior: &str, mode: &str) -> String {
    deployment_of_image(name, "busybox:1.36", behavior, mode)
}

fn deployment_of_image(name: &str, image: &str, behavior: &str, mode: &str) -> String {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": {"sim.rollwatch.dev/behavior": behavior}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": image,
                    "env": [{"name": "MODE", "value": mode}],
                    "readinessProbe": {"exec": {"command": ["true"]}, "initialDelaySeconds": 5, "periodSeconds": 1}
                }]}
            }
        }
    })
    .to_string()
    .replace('\u{9b}', r"\u009b")
}

/// Everything `run` printed holds no control character but newlines, and no line a CI runner
/// would take for a command.
#[track_caller]
fn assert_escaped(run: &Run) {
    let text = run.output();
    let raw: Vec<char> = text.chars().filter(|c| c.is_control() && *c != '\n').collect();
    assert!(raw.is_empty(), "control characters {raw:?} reached the output:\n{text}");
    for line in text.lines() {
        assert!(!line.trim_start().starts_with("::"), "a line a CI runner takes for a command: {line}\n{text}");
    }
}

#[test]
fn a_crashing_containers_log_lines_are_shown_escaped_one_per_line() {
    let ns = TestNamespace::new("hostile-log");
    let behavior = format!("crash exit=3 after=1s backoff=1s log=\"{HOSTILE}\"");
    // kubectl applies it: rollwatch's server-side apply body carries C1 controls raw, which the
    // API server's YAML decoder refuses.
    ns.apply(&deployment("crasher", &behavior, "fast")).ok();
    let run = ns.rollwatch(&["wait", "deployment/crasher", "--timeout", "3m"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert_escaped(&run);
    let text = run.output();
    // The log line holds a newline, so the container printed two lines: each stays one line.
    assert!(text.contains(r"| \x1b[31mred\x1b[0m \x1b]0;pwned-title\x07 \x1b[2J \u{9b}6n cr\roverwrite"), "{text}");
    assert!(text.contains(r"| \x3a:error::pwned"), "{text}");

    let json = ns.rollwatch(&["wait", "deployment/crasher", "-o", "json", "--timeout", "3m"]);
    assert_eq!(json.code, Some(1), "{}", json.output());
    let summary = json.json_lines().pop().expect("a summary line");
    let logged: Vec<&str> = summary["objects"][0]["explanation"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|detail| detail["logs"]["lines"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let (first, second) = HOSTILE.split_once('\n').unwrap();
    assert!(logged.contains(&first) && logged.contains(&second), "the log lines exactly as logged: {logged:#?}");
}

#[test]
fn history_shows_change_causes_and_template_diffs_escaped() {
    let ns = TestNamespace::new("hostile-history");
    ns.apply(&deployment("web", "ready", &format!("one {HOSTILE}"))).ok();
    ns.kubectl(&["annotate", "deployment/web", &format!("kubernetes.io/change-cause={HOSTILE}")]).ok();
    ns.apply(&deployment("web", "ready", &format!("two {HOSTILE}"))).ok();
    wait_for("revision 2 of deployment/web", WAIT, || {
        let revisions = ns.rollwatch(&["history", "deployment/web", "-o", "json"]).json_lines().pop()?;
        (revisions["revisions"].as_array()?.len() == 2).then_some(())
    });

    let list = ns.rollwatch(&["history", "deployment/web"]);
    assert_eq!(list.code, Some(0), "{}", list.output());
    assert_escaped(&list);
    assert!(list.stdout.contains(r"\x1b]0;pwned-title\x07 \x1b[2J \u{9b}6n cr\roverwrite\n::error::pwned"), "{}", list.stdout);

    let revision = ns.rollwatch(&["history", "deployment/web", "--revision", "2"]);
    assert_eq!(revision.code, Some(0), "{}", revision.output());
    assert_escaped(&revision);

    let diff = ns.rollwatch(&["history", "deployment/web", "--diff", "1", "2"]);
    assert_eq!(diff.code, Some(0), "{}", diff.output());
    assert_escaped(&diff);
    assert!(diff.stdout.contains(r"  env MODE: one \x1b[31mred"), "{}", diff.stdout);

    let json = ns.rollwatch(&["history", "deployment/web", "-o", "json"]);
    let revisions = json.json_lines().pop().expect("one JSON line");
    let causes: Vec<&str> = revisions["revisions"].as_array().unwrap().iter().filter_map(|r| r["change_cause"].as_str()).collect();
    assert!(causes.contains(&HOSTILE), "the change cause exactly as annotated: {causes:?}");
}

#[test]
fn live_progress_on_a_terminal_shows_a_hostile_image_name_escaped() {
    let ns = TestNamespace::new("hostile-live");
    // The simulator fails every pull of an image whose name holds `does-not-exist`.
    let image = "busybox:does-not-exist\x1b]0;pwned-title\x07\x1b[2J\u{9b}6n";
    ns.apply(&deployment_of_image("puller", image, "ready", "fast")).ok();
    // `script` runs rollwatch on a pseudo-terminal, so it shows its live progress.
    let command = format!("{} -n {} wait deployment/puller --waiting-grace 5s --timeout 3m", rollwatch_testbed::rollwatch_bin().display(), ns.name);
    let run: Run = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("KUBECONFIG", rollwatch_testbed::kubeconfig())
        .output()
        .expect("script runs")
        .into();
    assert_eq!(run.code, Some(1), "{}", run.output());
    let text = run.output();
    // The progress lines redraw themselves with their own escape sequences; none of the image's.
    for raw in ["\x1b]0;", "\x07", "\x1b[2J", "\u{9b}"] {
        assert!(!text.contains(raw), "{raw:?} reached the terminal:\n{text:?}");
    }
    assert!(text.contains(r"busybox:does-not-exist\x1b]0;pwned-title\x07\x1b[2J\u{9b}6n"), "{text:?}");
}
