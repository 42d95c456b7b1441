//! Habits kubectl users bring: `apply` says per object whether it was created, configured or
//! unchanged, objects are named as `KIND NAME` as well as `KIND/NAME`, and `-o name` and `-o yaml`
//! print what kubectl's would.

use rollwatch_testbed::{TestNamespace, deployment};

/// The `applied` notes of a JSON or YAML run: (kind/name, what was done).
fn applied_notes(lines: &[serde_json::Value]) -> Vec<(String, String)> {
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
        applied_notes(&run.json_lines())
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

/// Runs rollwatch under a pseudo-terminal of 80 columns (`script`), as CI systems that allocate
/// one do; returns everything it wrote, escapes included.
fn rollwatch_on_a_terminal(ns: &TestNamespace, args: &str) -> (Option<i32>, String) {
    let command = format!("stty cols 80 rows 40; {} -n {} {args}", rollwatch_testbed::rollwatch_bin().display(), ns.name);
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("KUBECONFIG", rollwatch_testbed::kubeconfig())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs");
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn progress_is_live_with_a_table_on_a_terminal_and_plain_when_asked() {
    let ns = TestNamespace::new("progress");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();

    let (code, live) = rollwatch_on_a_terminal(&ns, "wait deployment/web --timeout 2m --stable-for 0");
    assert_eq!(code, Some(0), "{live}");
    assert!(live.contains("OBJECT") && live.contains("VERDICT") && live.contains("REASON"), "the table:\n{live}");

    let (code, plain) = rollwatch_on_a_terminal(&ns, "wait deployment/web --timeout 2m --stable-for 0 --progress plain");
    assert_eq!(code, Some(0), "{plain}");
    assert!(plain.lines().any(|line| line.ends_with("Z deployment/web Ready: deployment \"web\" successfully rolled out")), "plain lines:\n{plain}");
    assert!(!plain.contains("VERDICT"), "{plain}");
}

#[test]
fn it_works_as_a_kubectl_plugin() {
    let ns = TestNamespace::new("plugin");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    // kubectl runs any kubectl-NAME on the PATH as `kubectl NAME`.
    let bin = std::env::temp_dir().join(format!("rollwatch-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    let plugin = bin.join("kubectl-rollwatch");
    let _ = std::fs::remove_file(&plugin);
    std::os::unix::fs::symlink(rollwatch_testbed::rollwatch_bin(), &plugin).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
    let run: rollwatch_testbed::Run = std::process::Command::new("kubectl")
        .args(["rollwatch", "-n", &ns.name, "wait", "deployment", "web", "--timeout", "2m", "--stable-for", "0"])
        .env("PATH", path)
        .env("KUBECONFIG", rollwatch_testbed::kubeconfig())
        .output()
        .expect("kubectl runs")
        .into();
    std::fs::remove_dir_all(&bin).unwrap();
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(run.stdout.contains("deployment/web"), "{}", run.output());
}

#[test]
fn dash_o_name_lists_each_object_once_to_feed_other_commands() {
    let ns = TestNamespace::new("o-name");
    let manifest = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\n---\n{}", deployment("web", 1, "nginx:1.19", "ready", "", ""));
    let applied = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m", "--stable-for", "0", "-o", "name"], &manifest);
    assert_eq!(applied.code, Some(0), "{}", applied.output());
    assert_eq!(applied.stdout, "configmap/settings\ndeployment/web\n");

    let waited = ns.rollwatch(&["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0", "-o", "name"]);
    assert_eq!(waited.code, Some(0), "{}", waited.output());
    assert_eq!(waited.stdout, "deployment/web\n");
    // What it printed is what kubectl takes.
    ns.kubectl(&["get", waited.stdout.trim()]).ok();

    let history = ns.rollwatch(&["history", "deployment/web", "-o", "name"]);
    assert_eq!(history.stdout, "deployment/web\n", "{}", history.output());
}

/// Standard output read as YAML documents.
fn yaml_documents(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_norway::Deserializer::from_str(text)
        .map(|document| serde_json::Value::deserialize(document).unwrap_or_else(|e| panic!("not YAML ({e}): {text}")))
        .collect()
}

#[test]
fn dash_o_yaml_prints_the_json_documents_as_yaml_and_a_revision_as_kubectl_does() {
    let ns = TestNamespace::new("o-yaml");
    let manifest = deployment("web", 2, "registry.example/web:1", "ready", "", "");
    let applied = ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m", "--stable-for", "0", "-o", "yaml"], &manifest);
    assert_eq!(applied.code, Some(0), "{}", applied.output());
    let documents = yaml_documents(&applied.stdout);
    assert_eq!(applied.stdout.matches("\n---\n").count(), documents.len() - 1, "{}", applied.stdout);
    assert_eq!(applied_notes(&documents), [("Deployment/web".to_string(), "created".to_string())]);
    let summary = documents.last().unwrap();
    assert_eq!(
        (summary["event"].as_str(), summary["result"].as_str(), summary["exit_code"].as_i64()),
        (Some("summary"), Some("ready"), Some(0)),
        "{}",
        applied.stdout
    );

    // wait: the same documents as its -o json, times aside.
    let without_times = |mut document: serde_json::Value| {
        for field in ["time", "elapsed_seconds"] {
            document.as_object_mut().unwrap().remove(field);
        }
        for object in document["objects"].as_array_mut().into_iter().flatten() {
            object.as_object_mut().unwrap().remove("last_change_seconds");
        }
        document
    };
    let as_yaml = ns.rollwatch(&["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0", "-o", "yaml"]);
    let as_json = ns.rollwatch(&["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0", "-o", "json"]);
    assert_eq!((as_yaml.code, as_json.code), (Some(0), Some(0)), "{}{}", as_yaml.output(), as_json.output());
    let yaml: Vec<_> = yaml_documents(&as_yaml.stdout).into_iter().map(without_times).collect();
    let json: Vec<_> = as_json.json_lines().into_iter().map(without_times).collect();
    assert_eq!(yaml, json);

    // history --revision 1: the ReplicaSet holding it, as kubectl shows it (managedFields hidden).
    let revision = ns.rollwatch(&["history", "deployment/web", "--revision", "1", "-o", "yaml"]);
    assert_eq!(revision.code, Some(0), "{}", revision.output());
    let shown = yaml_documents(&revision.stdout);
    let name = shown[0]["metadata"]["name"].as_str().expect("a name").to_string();
    let mut replica_set = ns.kubectl(&["get", "replicaset", &name, "-o", "json"]).ok().json();
    replica_set["metadata"].as_object_mut().unwrap().remove("managedFields");
    assert_eq!(shown, [replica_set]);
    assert_eq!(shown[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1");
}
