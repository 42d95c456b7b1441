//! Habits kubectl users bring: `apply` says per object whether it was created, configured or
//! unchanged, and objects are named as `KIND NAME` as well as `KIND/NAME`.

use rollwatch_testbed::{TestNamespace, deployment};

/// The `applied` notes of a JSON run: (kind/name, what was done).
fn applied(lines: &[serde_json::Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|line| line["event"] == "applied")
        .map(|line| {
            (
                format!("{}/{}", line["object"]["kind"].as_str().unwrap(), line["object"]["name"].as_str().unwrap()),
                line["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn apply_says_created_configured_or_unchanged_per_object() {
    let ns = TestNamespace::new("changes");
    let manifest = |image: &str, value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{level: '{value}'}}\n---\n{}",
            deployment("web", 1, image, "ready", "", "")
        )
    };
    let apply = |text: &str| {
        let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m", "--stable-for", "0", "-o", "json"], text);
        assert_eq!(run.code, Some(0), "{}", run.output());
        applied(&run.json_lines())
    };
    let pair = |object: &str, done: &str| (object.to_string(), done.to_string());

    assert_eq!(apply(&manifest("nginx:1.19", "1")), [pair("ConfigMap/settings", "created"), pair("Deployment/web", "created")]);
    assert_eq!(apply(&manifest("nginx:1.19", "1")), [pair("ConfigMap/settings", "unchanged"), pair("Deployment/web", "unchanged")]);
    assert_eq!(apply(&manifest("nginx:1.20", "1")), [pair("ConfigMap/settings", "unchanged"), pair("Deployment/web", "configured")]);
    assert_eq!(apply(&manifest("nginx:1.20", "2")), [pair("ConfigMap/settings", "configured"), pair("Deployment/web", "unchanged")]);
}

#[test]
fn objects_are_named_as_kubectl_names_them() {
    let ns = TestNamespace::new("kind-name");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    ns.apply(&deployment("api", 1, "nginx:1.19", "ready", "", "")).ok();
    let run = ns.rollwatch(&["wait", "deployment", "web", "api", "--timeout", "2m", "--stable-for", "0", "-o", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    let summary = run.json_lines().pop().expect("a summary");
    let names: Vec<&str> = summary["objects"].as_array().unwrap().iter().map(|o| o["object"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["web", "api"], "{summary}");

    let history = ns.rollwatch(&["history", "deployment", "web"]);
    assert_eq!(history.code, Some(0), "{}", history.output());
    assert!(history.stdout.contains("nginx:1.19"), "{}", history.output());
}
