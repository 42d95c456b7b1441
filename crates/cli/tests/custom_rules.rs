//! Readiness rules for custom resources end to end (issue #16): `--rules` on `check`, the
//! annotations, `rollwatch rules` and `rollwatch rules test`, and rules that do not compile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/custom_rules").join(name)
}

fn rollwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).output().expect("run rollwatch")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("rollwatch-cli-rules-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_judges_custom_resources_by_the_built_in_rules() {
    let objects = fixture("objects.yaml");
    let output = rollwatch(&["check", "-f", objects.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("rollout.argoproj.io/web (shop): failed: rollout.argoproj.io/web failed: RolloutAborted: Rollout aborted update to revision 2\n  - RolloutAborted: rollout.argoproj.io/web:"),
        "{text}"
    );
    assert!(text.contains("gadget.example.com/later (shop): ready: gadget.example.com/later is skipped (rollwatch.dev/skip): not waited for"), "{text}");
    assert!(text.contains("gadget.example.com/counted (shop): progressing: Waiting for gadget.example.com/counted to be ready: not ready yet"), "{text}");
    // No rule for Widget among the built-ins: the generic viewer, which finds no Ready condition.
    assert!(text.contains("widget.example.com/broken (shop): ready: widget.example.com/broken reports no readiness condition"), "{text}");
}

#[test]
fn a_rules_file_adds_rules_and_overrides_built_in_ones() {
    let (objects, rules) = (fixture("objects.yaml"), fixture("widgets.yaml"));
    let output = rollwatch(&["check", "--rules", rules.to_str().unwrap(), "-f", objects.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("widget.example.com/broken (shop): failed: widget.example.com/broken failed: no gears left\n  - RuleFailed: widget.example.com/broken: no gears left"), "{text}");
    assert!(text.contains("widget.example.com/running (shop): ready: widget.example.com/running is ready: all gears turning"), "{text}");
    assert!(text.contains("rollout.argoproj.io/web (shop): ready: rollout.argoproj.io/web is ready"), "the override replaces the built-in rule: {text}");
}

#[test]
fn a_rule_that_does_not_compile_is_a_usage_error_naming_file_rule_field_and_position() {
    let broken = write_temp(
        "broken.yaml",
        "rules:\n- group: example.com\n  kind: Widget\n  ready: \"self.status.phase == 'Running'\"\n  failed: \"self.status.phase ==\"\n",
    );
    let objects = fixture("objects.yaml");
    for command in [
        &["check", "--rules", broken.to_str().unwrap(), "-f", objects.to_str().unwrap()][..],
        &["wait", "--rules", broken.to_str().unwrap(), "widget.example.com/w"],
        &["rules", "test", broken.to_str().unwrap(), "-f", objects.to_str().unwrap()],
    ] {
        let output = rollwatch(command);
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command:?}: {error}");
        assert!(
            error.contains(&format!("{}: rules[0] (example.com/Widget), field failed: does not compile: line 1, column ", broken.display())),
            "{command:?}: {error}"
        );
    }
    std::fs::remove_file(broken).unwrap();
}

#[test]
fn an_annotation_that_does_not_compile_stops_check_and_apply_naming_the_object() {
    let manifest = write_temp(
        "annotated.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  annotations: {rollwatch.dev/failed-when: \"self.status.(\"}\n",
    );
    for command in [&["check", "-f", manifest.to_str().unwrap()][..], &["apply", "--kubeconfig", "/nonexistent", "-f", manifest.to_str().unwrap()]] {
        let output = rollwatch(command);
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command:?}: {error}");
        assert!(error.contains("widget.example.com/w: annotation rollwatch.dev/failed-when: does not compile: line 1, column "), "{command:?}: {error}");
    }
    std::fs::remove_file(manifest).unwrap();
}

#[test]
fn rules_lists_the_rules_in_force_with_their_origin() {
    let output = rollwatch(&["rules"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0));
    for line in
        ["argoproj.io/Rollout  (built-in argo-rollouts.yaml)", "cert-manager.io/Certificate  (built-in cert-manager.yaml)", "*/*  (built-in crossplane.yaml)"]
    {
        assert!(text.lines().any(|l| l == line), "{line} missing: {text}");
    }
    let rules = fixture("widgets.yaml");
    let with_file = stdout(&rollwatch(&["rules", "--rules", rules.to_str().unwrap(), "-o", "json"]));
    let rules_listed: Vec<serde_json::Value> = with_file.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let widget = rules_listed.iter().find(|rule| rule["rule"] == "example.com/Widget").expect("the file's rule is listed");
    assert_eq!(widget["origin"], rules.display().to_string());
    assert_eq!(widget["expressions"]["message"], "self.status.detail");
    let rollout = rules_listed.iter().find(|rule| rule["rule"] == "argoproj.io/Rollout").unwrap();
    assert_eq!(rollout["origin"], rules.display().to_string(), "overridden");
}

#[test]
fn rules_test_judges_saved_objects_and_names_the_rule_of_each() {
    let (objects, rules) = (fixture("objects.yaml"), fixture("widgets.yaml"));
    let output = rollwatch(&["rules", "test", rules.to_str().unwrap(), "-f", objects.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let rules_name = rules.display().to_string();
    assert!(text.contains(&format!("widget.example.com/broken (shop): failed: widget.example.com/broken failed: no gears left\n  - RuleFailed: widget.example.com/broken: no gears left\n  judged by rule example.com/Widget ({rules_name})")), "{text}");
    assert!(
        text.contains(
            "gadget.example.com/counted (shop): progressing: Waiting for gadget.example.com/counted to be ready: not ready yet\n  judged by its annotations"
        ),
        "{text}"
    );
    assert!(text.contains("gadget.example.com/later (shop): ready: gadget.example.com/later is skipped (rollwatch.dev/skip): not waited for\n  - Skipped: gadget.example.com/later: annotation rollwatch.dev/skip: \"true\"\n  judged by no rule"), "{text}");
}
