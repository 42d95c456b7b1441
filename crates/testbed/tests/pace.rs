//! The rollout's pace against the duration model while tracking: the expected remaining time on
//! state changes, and "slower than expected" for a rollout far behind it — a hint that never
//! changes the exit code.

use rollwatch_testbed::TestNamespace;

/// One replica whose readiness probe (1 s period, no delay) the model expects to pass within a
/// few seconds of the pod's creation.
fn deployment(name: &str, image: &str, behavior: &str) -> String {
    rollwatch_testbed::deployment(name, 1, image, behavior, r#"readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}"#, "")
}

#[test]
fn a_rollout_far_behind_the_model_is_slower_than_expected_yet_ends_as_a_timeout() {
    let ns = TestNamespace::new("pace-slow");
    // The model expects the pod ready after ~2 s, so "slower than expected" is due after
    // 2 × 2 s + 30 s slack; the timeout leaves ample room past that, and the readiness grace
    // keeps the verdict engine from failing the pod first.
    let manifest = deployment("stuck", "nginx:1.19", "never-ready");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--readiness-grace", "10m", "--timeout", "75s"], &manifest);
    assert_eq!(run.code, Some(3), "a timeout, not a failure:\n{}", run.output());
    let note = run.stdout.lines().find(|line| line.contains("deployment/stuck slower than expected: "));
    let note = note.unwrap_or_else(|| panic!("no slower-than-expected note:\n{}", run.output()));
    assert!(note.contains("the model expected the next updated pod available after "), "{note}");
    assert_eq!(run.stdout.matches("slower than expected: ").count(), 1, "the note comes once:\n{}", run.output());
    assert!(run.stdout.contains("TIMED OUT deployment/stuck"), "{}", run.output());
}

#[test]
fn a_healthy_rollout_shows_the_expected_remaining_time() {
    let ns = TestNamespace::new("pace-healthy");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "3m"], &deployment("web", "nginx:1.19", "ready"));
    assert_eq!(run.code, Some(0), "{}", run.output());
    // The clock starts at the first progressing verdict, when the whole model's time is ahead.
    let progressing = run.stdout.lines().find(|line| line.contains("deployment/web Progressing: "));
    let progressing = progressing.unwrap_or_else(|| panic!("no progressing line:\n{}", run.output()));
    assert!(progressing.contains(" (expected ~") && progressing.ends_with(" more)"), "{progressing}");
    assert!(!run.stdout.contains("slower than expected"), "{}", run.output());

    // The next rollout (a new generation, a new clock) in JSON lines.
    let update = ns.rollwatch(&["set", "image", "deployment/web", "app=nginx:1.20", "--timeout", "3m", "-o", "json"]);
    assert_eq!(update.code, Some(0), "{}", update.output());
    let lines: Vec<serde_json::Value> = update.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let first = lines.iter().find(|l| l["event"] == "verdict" && l["state"] == "Progressing");
    let first = first.unwrap_or_else(|| panic!("no progressing verdict:\n{}", update.stdout));
    assert!(first["expected_remaining_seconds"].as_f64().is_some_and(|s| s > 0.0), "{first}");
    assert_eq!(first["slower_than_expected"], false, "{first}");
    assert!(first["pace"]["expected_total_seconds"].as_f64().is_some_and(|s| s > 0.0), "{first}");
    let ready = lines.iter().rfind(|l| l["event"] == "verdict").unwrap();
    assert_eq!((&ready["state"], &ready["expected_remaining_seconds"]), (&"Ready".into(), &serde_json::Value::Null), "{ready}");
}
