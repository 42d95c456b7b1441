//! `rollwatch timeline RUN.jsonl -o FILE.html`: a saved `-o json` run drawn as one HTML file,
//! and bad input refused with the file and line named (exit 2), nothing written.

use std::path::Path;
use std::process::{Command, Output};

fn rollwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).output().expect("rollwatch runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).display().to_string()
}

#[test]
fn a_saved_run_is_drawn_with_a_lane_per_pod_grouped_by_revision() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("run.html");
    let output = rollwatch(&["timeline", &fixture("run-crash-loop.jsonl"), "-o", html.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("timeline of 3 pod(s) written to"), "{}", text(&output));
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("class=\"pod-lane\"").count(), 3);
    assert_eq!(page.matches("class=\"revision\"").count(), 2, "the old and the new revision");
    assert!(page.contains("data-revision=\"5d4f\""));
    // Two restarts and two warnings' marks, beside the legend's one of each.
    assert_eq!(page.matches("<circle class=\"mark restart\"").count(), 3);
    assert_eq!(page.matches("<path class=\"mark warning\"").count(), 2);
    assert_eq!(page.matches("<rect class=\"wave\"").count(), 2);
}

#[test]
fn global_flags_before_the_command_are_taken_and_help_names_its_own_output_flag() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("run.html");
    let output = rollwatch(&["-n", "shop", "timeline", &fixture("run-crash-loop.jsonl"), "-o", html.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(html.exists());
    let help = rollwatch(&["timeline", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help).contains("-o, --output <FILE.html>"), "{}", text(&help));
    assert!(text(&rollwatch(&["--help"])).contains("timeline"), "listed among the commands");
}

#[test]
fn bad_input_names_the_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("run.html");
    let out = html.to_str().unwrap();
    let write = |name: &str, content: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    };
    let cases = [
        (write("garbled.jsonl", "{\"event\": \"note\", \"time\": \"2026-11-30T10:00:00Z\"}\n\nnot json\n"), "garbled.jsonl line 3: not JSON"),
        (
            write(
                "bad-state.jsonl",
                "{\"event\": \"pod\", \"workload\": {\"kind\": \"Deployment\", \"name\": \"w\"}, \"object\": {\"kind\": \"Pod\", \"name\": \"p\"}, \"state\": \"dancing\"}\n",
            ),
            "bad-state.jsonl line 1: field \"state\": unknown pod state \"dancing\"",
        ),
        (write("no-event.jsonl", "{\"kind\": \"Deployment\"}\n"), "no-event.jsonl line 1: not a line of a run: no \"event\" field"),
        (write("empty.jsonl", "\n"), "empty.jsonl: no JSON lines"),
        (dir.path().join("missing.jsonl").display().to_string(), "cannot read"),
    ];
    for (run, expected) in cases {
        let output = rollwatch(&["timeline", &run, "-o", out]);
        assert_eq!(output.status.code(), Some(2), "{run}: {}", text(&output));
        assert!(text(&output).contains(expected), "{run}: {}", text(&output));
        assert!(!html.exists(), "{run}: nothing written");
    }
    let no_output = rollwatch(&["timeline", &fixture("run-crash-loop.jsonl")]);
    assert_eq!(no_output.status.code(), Some(2));
    assert!(text(&no_output).contains("--output <FILE.html>"), "{}", text(&no_output));
}
