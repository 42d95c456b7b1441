//! The command line's contract where no cluster is needed: usage and manifest errors exit 2
//! naming what is wrong, an unreachable cluster exits 4, and --help documents the exit codes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn rollwatch(args: &[&str]) -> Output {
    let kubeconfig = unreachable_kubeconfig();
    Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(args).env("KUBECONFIG", kubeconfig.path()).output().expect("rollwatch runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A kubeconfig whose API server is a loopback port nothing listens on; deleted when dropped
/// (also when a test panics).
fn unreachable_kubeconfig() -> tempfile::NamedTempFile {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut file = tempfile::Builder::new().prefix("rollwatch-unreachable-").suffix(".kubeconfig").tempfile().unwrap();
    write!(
        file,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\n\
         users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
    )
    .unwrap();
    file
}

#[test]
fn help_documents_the_exit_codes() {
    let output = rollwatch(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output);
    for line in ["1    a rollout failed", "3    not ready in time", "4    cluster access error", "130  interrupted"] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn bad_flags_and_object_names_are_usage_errors() {
    let unknown_flag = rollwatch(&["wait", "deployment/web", "--no-such-flag"]);
    assert_eq!(unknown_flag.status.code(), Some(2), "{}", text(&unknown_flag));
    let bad_duration = rollwatch(&["wait", "deployment/web", "--timeout", "soon"]);
    assert_eq!(bad_duration.status.code(), Some(2), "{}", text(&bad_duration));
    assert!(text(&bad_duration).contains("invalid duration \"soon\""), "{}", text(&bad_duration));
    // `--poll` takes its interval only as `--poll=5s`, so it never swallows an object.
    let poll_then_object = rollwatch(&["wait", "--poll", "web"]);
    assert!(text(&poll_then_object).contains("invalid object reference \"web\""), "{}", text(&poll_then_object));
    let no_slash = rollwatch(&["wait", "web"]);
    assert_eq!(no_slash.status.code(), Some(2));
    assert!(text(&no_slash).contains("invalid object reference \"web\""), "{}", text(&no_slash));
    let all_namespaces_with_an_object = rollwatch(&["status", "deployment/web", "-A"]);
    assert_eq!(all_namespaces_with_an_object.status.code(), Some(2));
    assert!(text(&all_namespaces_with_an_object).contains("with -l or -A, give kinds"), "{}", text(&all_namespaces_with_an_object));
    let all_namespaces_and_files = rollwatch(&["status", "-A", "-f", "web.yaml"]);
    assert_eq!(all_namespaces_and_files.status.code(), Some(2), "{}", text(&all_namespaces_and_files));
    let bad_image = rollwatch(&["set", "image", "deployment/web", "app"]);
    assert_eq!(bad_image.status.code(), Some(2));
    assert!(text(&bad_image).contains("expected CONTAINER=IMAGE"), "{}", text(&bad_image));
}

#[test]
fn an_unreadable_or_invalid_manifest_is_a_manifest_error_naming_the_file() {
    let missing = rollwatch(&["apply", "-f", "/nonexistent/web.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("/nonexistent/web.yaml"), "{}", text(&missing));

    let file = tempfile::Builder::new().prefix("rollwatch-invalid-").suffix(".yaml").tempfile().unwrap();
    let path = file.path();
    std::fs::write(path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nmetadata: {name: kindless}\n").unwrap();
    let invalid = rollwatch(&["apply", "-f", path.to_str().unwrap()]);
    assert_eq!(invalid.status.code(), Some(2), "{}", text(&invalid));
    let said = text(&invalid);
    assert!(said.contains(path.to_str().unwrap()) && said.contains("document 2") && said.contains("kind"), "{said}");
}

#[test]
fn an_unreachable_cluster_is_a_cluster_access_error() {
    let output = rollwatch(&["status", "deployment/web"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    // `-A` alone is a whole cluster's status, as `kubectl get -A`: it goes to the cluster.
    for args in [&["status", "-A"][..], &["status", "deployments", "-A"]] {
        let whole_cluster = rollwatch(args);
        assert_eq!(whole_cluster.status.code(), Some(4), "{args:?}: {}", text(&whole_cluster));
    }
    let json = rollwatch(&["wait", "deployment/web", "-o", "json"]);
    assert_eq!(json.status.code(), Some(4));
    let line: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON line");
    assert_eq!(line["event"], "error");
    assert_eq!(line["exit_code"], 4);
}

/// A kubeconfig whose user gets credentials from `plugin`, an exec plugin script, with a secret
/// in the plugin's arguments and environment too; in a directory deleted when dropped.
fn exec_plugin_kubeconfig(name: &str, plugin: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(&format!("rollwatch-exec-{name}-")).tempdir().unwrap();
    let script = dir.path().join("plugin");
    std::fs::write(&script, format!("#!/bin/sh\n{plugin}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {}\n\
             \x20     args: ['--password=ARG-s3cr3t']\n      env: [{{name: PLUGIN_KEY, value: ENV-s3cr3t}}]\n      interactiveMode: Never\n\
             contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
            script.display()
        ),
    )
    .unwrap();
    (dir, path)
}

#[test]
fn a_failing_exec_plugin_is_an_access_error_that_does_not_echo_its_output() {
    let token = r#"{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {"token": "TOKEN-s3cr3t"}}"#;
    let plugins = [
        ("fails", format!("echo '{token}'\necho 'refresh token REFRESH-s3cr3t expired' >&2\nexit 1"), "exec credential plugin failed (exit status: 1)"),
        ("garbles", "echo 'TOKEN-s3cr3t: [unclosed'".to_string(), "exec credential plugin did not print a valid ExecCredential"),
    ];
    for (name, plugin, expected) in plugins {
        let (_dir, kubeconfig) = exec_plugin_kubeconfig(name, &plugin);
        for output_format in ["text", "json"] {
            let output = Command::new(env!("CARGO_BIN_EXE_rollwatch"))
                .args(["status", "deployment/web", "-o", output_format, "--kubeconfig", kubeconfig.to_str().unwrap()])
                .output()
                .expect("rollwatch runs");
            let said = text(&output);
            assert_eq!(output.status.code(), Some(4), "{name} ({output_format}): {said}");
            assert!(said.contains(expected), "{name} ({output_format}): {said}");
            assert!(!said.contains("s3cr3t"), "{name} ({output_format}) shows the plugin's secrets: {said}");
        }
    }
}

/// Runs rollwatch with nothing of the caller's environment but `PATH` and `vars`.
fn rollwatch_in(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollwatch"));
    command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).envs(vars.iter().copied()).args(args);
    command.output().expect("rollwatch runs")
}

#[test]
fn client_and_connection_errors_exit_4_never_1() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap();

    // No kubeconfig and not in a pod: says where it looked.
    let nothing = rollwatch_in(&[("HOME", home)], &["wait", "deployment/web"]);
    assert_eq!(nothing.status.code(), Some(4), "{}", text(&nothing));
    let said = text(&nothing);
    assert!(said.contains("no cluster configured") && said.contains("KUBERNETES_SERVICE_HOST"), "{said}");

    let kubeconfig = unreachable_kubeconfig();
    let kubeconfig = kubeconfig.path().to_str().unwrap();
    // A proxy of a scheme no client speaks, for a server that is not on loopback.
    let ftp = rollwatch_in(
        &[("HOME", home), ("HTTPS_PROXY", "ftp://proxy.invalid")],
        &["--kubeconfig", kubeconfig, "--server", "https://api.invalid", "status", "deployment/web"],
    );
    assert_eq!(ftp.status.code(), Some(4), "{}", text(&ftp));
    assert!(text(&ftp).contains("HTTPS_PROXY"), "{}", text(&ftp));
    // A proxy that does not answer.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let silent_proxy = format!("http://127.0.0.1:{port}");
    let proxied = rollwatch_in(
        &[("HOME", home), ("HTTPS_PROXY", &silent_proxy)],
        &["--kubeconfig", kubeconfig, "--server", "https://api.invalid", "wait", "deployment/web"],
    );
    assert_eq!(proxied.status.code(), Some(4), "{}", text(&proxied));
    // A CA file that does not exist, and a context the kubeconfig does not have.
    let no_ca = rollwatch_in(&[("HOME", home)], &["--kubeconfig", kubeconfig, "--certificate-authority", "/nonexistent/ca.crt", "status", "deployment/web"]);
    assert_eq!(no_ca.status.code(), Some(4), "{}", text(&no_ca));
    assert!(text(&no_ca).contains("/nonexistent/ca.crt"), "{}", text(&no_ca));
    let no_context = rollwatch_in(&[("HOME", home)], &["--kubeconfig", kubeconfig, "--context", "nowhere", "status", "deployment/web"]);
    assert_eq!(no_context.status.code(), Some(4), "{}", text(&no_context));
    assert!(text(&no_context).contains("\"nowhere\""), "{}", text(&no_context));
    // --kubeconfig naming a file that does not exist.
    let missing = rollwatch_in(&[("HOME", home)], &["--kubeconfig", "/nonexistent/config", "status", "deployment/web"]);
    assert_eq!(missing.status.code(), Some(4), "{}", text(&missing));
    assert!(text(&missing).contains("/nonexistent/config"), "{}", text(&missing));
}

#[test]
fn connection_flags_parse_as_kubectl_spells_them() {
    let kubeconfig = unreachable_kubeconfig();
    let flags = [
        "--kubeconfig",
        kubeconfig.path().to_str().unwrap(),
        "--cluster",
        "c",
        "--user",
        "u",
        "--as",
        "jane",
        "--as-group",
        "ops",
        "--as-group",
        "dev",
        "--token",
        "t",
        "--insecure-skip-tls-verify",
        "--request-timeout",
        "5s",
        "status",
        "deployment/web",
    ];
    // Parsed and used: the unreachable server is then an access error, not a usage error.
    let output = rollwatch(&flags);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    let bad_timeout = rollwatch(&["--request-timeout", "soon", "status", "deployment/web"]);
    assert_eq!(bad_timeout.status.code(), Some(2), "{}", text(&bad_timeout));
    let help = text(&rollwatch(&["wait", "--help"]));
    let connection = help.split("Connection:").nth(1).expect("a Connection section in the help");
    for flag in [
        "--server",
        "--token",
        "--as <USER>",
        "--as-group",
        "--certificate-authority",
        "--insecure-skip-tls-verify",
        "--request-timeout",
        "--cluster",
        "--user",
    ] {
        assert!(connection.contains(flag), "{flag} under Connection:\n{help}");
    }
}

#[test]
fn help_groups_each_commands_own_flags_apart_from_tracking_tolerances_connection_and_global_ones() {
    let help = text(&rollwatch(&["wait", "--help"]));
    // Each flag's long name under the heading it is shown under (flag lines are indented at
    // most 6 columns; wrapped descriptions more).
    let mut headed: Vec<(String, String)> = Vec::new();
    let mut heading = String::new();
    for line in help.lines() {
        if line.ends_with(':') && line.starts_with(|c: char| c.is_ascii_uppercase()) {
            heading = line.trim_end_matches(':').to_string();
        } else if line.trim_start().starts_with('-') && line.len() - line.trim_start().len() <= 6 {
            let flag = line.split_whitespace().find(|word| word.starts_with("--")).expect("a long flag");
            headed.push((heading.clone(), flag.trim_end_matches(',').to_string()));
        }
    }
    let section = |name: &str| -> Vec<String> { headed.iter().filter(|(heading, _)| heading == name).map(|(_, flag)| flag.clone()).collect() };
    assert_eq!(section("Options"), ["--filename", "--recursive", "--selector", "--all-namespaces", "--for", "--help"]);
    assert_eq!(section("Tracking"), ["--timeout", "--poll[=<DURATION>]", "--fail-fast", "--wait-all", "--logs-tail", "--timeline"]);
    let tolerances = section("Tolerances");
    assert!(
        tolerances
            .iter()
            .all(|flag| flag.contains("grace")
                || ["--allowed-restarts", "--stable-for", "--wait-for-terminating", "--no-progress-timeout"].contains(&flag.as_str())),
        "{tolerances:?}"
    );
    assert_eq!(section("Custom resources"), ["--rules"]);
    assert_eq!(section("Global"), ["--namespace", "--output", "--progress"]);
    assert!(section("Connection").contains(&"--kubeconfig".to_string()));
}

#[test]
fn completions_and_man_pages_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish"] {
        let output = rollwatch(&["completion", shell]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        let script = String::from_utf8_lossy(&output.stdout);
        for word in ["rollwatch", "wait", "waiting-grace", "as-group"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(rollwatch(&["completion", "tcsh"]).status.code(), Some(2));

    let dir = std::env::temp_dir().join(format!("rollwatch-man-{}", std::process::id()));
    let output = rollwatch(&["man", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let wait = std::fs::read_to_string(dir.join("rollwatch-wait.1")).expect("a page for wait");
    assert!(wait.starts_with(".ie") || wait.contains(".TH rollwatch-wait 1"), "{}", &wait[..wait.len().min(300)]);
    for word in ["waiting\\-grace", "request\\-timeout", "cluster access error"] {
        assert!(wait.contains(word), "rollwatch-wait.1 lacks {word}");
    }
    for page in ["rollwatch.1", "rollwatch-apply.1", "rollwatch-check.1", "rollwatch-history.1"] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    assert!(!dir.join("rollwatch-help.1").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wait_takes_kubectls_spelling_of_for_delete() {
    // Parsed: the unreachable cluster is then the error (4), not the flag (2).
    for goal in ["delete", "deleted"] {
        let output = rollwatch(&["wait", "deployment/web", &format!("--for={goal}")]);
        assert_eq!(output.status.code(), Some(4), "{goal}: {}", text(&output));
    }
    assert_eq!(rollwatch(&["wait", "deployment/web", "--for=gone"]).status.code(), Some(2));
}

/// The flags `args --help` shows taking a `<DURATION>`, as `--name`.
fn duration_flags(args: &[&str]) -> Vec<String> {
    let help = text(&rollwatch(&[args, &["--help"]].concat()));
    let mut flags = Vec::new();
    for line in help.lines().filter(|line| line.trim_start().starts_with('-')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(at) = words.iter().position(|word| word.starts_with("--")) {
            let flag = words[at].trim_end_matches(',');
            if flag.contains("<DURATION>") || words.get(at + 1) == Some(&"<DURATION>") {
                flags.push(flag.split('[').next().unwrap().to_string());
            }
        }
    }
    flags.sort();
    flags
}

#[test]
fn every_duration_flag_is_shown_as_a_duration_and_takes_bare_seconds() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web-ready.yaml").display().to_string();
    let workloads = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan-workloads.yaml").display().to_string();
    let tolerances = ["--waiting-grace", "--unschedulable-grace", "--readiness-grace", "--stable-for", "--no-progress-timeout", "--request-timeout"];
    let tracking = [&["--timeout", "--poll"][..], &tolerances].concat();
    // Each command (its words, then its arguments) and the duration flags it has.
    let commands: [(&[&str], &[&str], &[&str]); 9] = [
        (&["wait"], &["deployment/web"], &tracking),
        (&["apply"], &["-f", &web], &tracking),
        (&["undo"], &["deployment/web"], &tracking),
        (&["restart"], &["deployment/web"], &tracking),
        (&["resume"], &["deployment/web"], &tracking),
        (&["set", "image"], &["deployment/web", "app=repo/app:v2"], &tracking),
        (&["status"], &["deployment/web"], &tolerances),
        (&["check"], &["-f", &web], &tolerances),
        (&["plan"], &["-f", &workloads, "--nodes", "3"], &["--timeout", "--pod-start", "--pod-termination", "--request-timeout"]),
    ];
    for (words, arguments, expected) in commands {
        let command = &[words, arguments].concat()[..];
        let mut expected: Vec<String> = expected.iter().map(|flag| flag.to_string()).collect();
        expected.sort();
        assert_eq!(duration_flags(words), expected, "{words:?}");
        // A bare number is seconds on every one of them: the command gets as far as without the
        // flag (the unreachable cluster, exit 4; offline, its verdict), never a usage error (2).
        let baseline = rollwatch(command).status.code();
        assert_ne!(baseline, Some(2), "{command:?}: {}", text(&rollwatch(command)));
        for flag in &expected {
            let args = if flag == "--poll" { [command, &["--poll=90"]].concat() } else { [command, &[flag.as_str(), "90"]].concat() };
            let output = rollwatch(&args);
            assert_eq!(output.status.code(), baseline, "{args:?}: {}", text(&output));
        }
    }
}

#[test]
fn objects_are_named_as_kind_slash_name_or_as_kubectls_kind_name() {
    // Parsed: the unreachable cluster is then the error (4), not the names (2).
    for args in [
        &["wait", "deployment", "web"][..],
        &["wait", "deploy", "web", "api"],
        &["status", "sts", "db"],
        &["history", "deployment", "web"],
        &["undo", "sts", "db"],
        &["restart", "ds", "agent"],
        &["pause", "deployment", "web"],
        &["resume", "deployment", "web"],
        &["set", "image", "deployment", "web", "app=repo/app:v2"],
    ] {
        let output = rollwatch(args);
        assert_eq!(output.status.code(), Some(4), "{args:?}: {}", text(&output));
    }
    // The two spellings are not mixed.
    let mixed = rollwatch(&["wait", "deployment/web", "api"]);
    assert_eq!(mixed.status.code(), Some(2), "{}", text(&mixed));
    assert!(text(&mixed).contains("invalid object reference \"api\""), "{}", text(&mixed));
    let both = rollwatch(&["history", "deployment/web", "web"]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    assert!(text(&both).contains("KIND/NAME or as KIND NAME"), "{}", text(&both));
    let no_image = rollwatch(&["set", "image", "deployment", "web"]);
    assert_eq!(no_image.status.code(), Some(2), "{}", text(&no_image));
    assert!(text(&no_image).contains("expected CONTAINER=IMAGE"), "{}", text(&no_image));
}

#[test]
fn dash_o_name_prints_only_the_objects_that_made_it() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let ready = fixtures.join("web-ready.yaml");
    let output = rollwatch(&["check", "-f", ready.to_str().unwrap(), "-o", "name", "--stable-for", "0"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "deployment/web\njob/migrate\n");
    // A failed one is left out; the exit code says why.
    let failed = fixtures.join("web-image-pull.json");
    let output = rollwatch(&["check", "-f", failed.to_str().unwrap(), "-o", "name", "--now", "2030-01-01T00:00:00Z"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    // plan has no objects to name.
    let plan = fixtures.join("plan-workloads.yaml");
    let output = rollwatch(&["plan", "-f", plan.to_str().unwrap(), "--nodes", "3", "-o", "name"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("use -o text, -o json or -o yaml"), "{}", text(&output));
    // Errors stay text on standard error.
    let unreachable = rollwatch(&["wait", "deployment/web", "-o", "name"]);
    assert_eq!(unreachable.status.code(), Some(4));
    assert!(unreachable.stdout.is_empty() && text(&unreachable).contains("error:"), "{}", text(&unreachable));
}

/// The documents of a run's standard output: JSON lines, or YAML documents separated by `---`.
fn documents(output: &Output, format: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    let text = String::from_utf8_lossy(&output.stdout);
    match format {
        "json" => text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))).collect(),
        _ => serde_norway::Deserializer::from_str(&text)
            .map(|document| serde_json::Value::deserialize(document).unwrap_or_else(|e| panic!("not YAML ({e}): {text}")))
            .collect(),
    }
}

#[test]
fn dash_o_yaml_prints_the_documents_of_dash_o_json_as_yaml() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let file = |name: &str| fixtures.join(name).display().to_string();
    let now = ["--now", "2030-01-01T00:00:00Z"];
    let runs: [(Vec<String>, i32, usize); 4] = [
        (vec!["check".into(), "-f".into(), file("web-ready.yaml"), "--stable-for".into(), "0".into()], 0, 2),
        (vec!["check".into(), "-f".into(), file("web-image-pull.json"), now[0].into(), now[1].into()], 1, 1),
        (vec!["plan".into(), "-f".into(), file("plan-workloads.yaml"), "--nodes".into(), "3".into()], 0, 0),
        (vec!["rules".into()], 0, 0),
    ];
    for (args, code, expected_documents) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let json = rollwatch(&[&args[..], &["-o", "json"]].concat());
        let yaml = rollwatch(&[&args[..], &["-o", "yaml"]].concat());
        assert_eq!(yaml.status.code(), Some(code), "{args:?}: {}", text(&yaml));
        assert_eq!(json.status.code(), Some(code), "{args:?}: {}", text(&json));
        let (from_json, from_yaml) = (documents(&json, "json"), documents(&yaml, "yaml"));
        assert!(!from_yaml.is_empty() && (expected_documents == 0 || from_yaml.len() == expected_documents), "{args:?}: {}", text(&yaml));
        assert_eq!(from_yaml, from_json, "{args:?}: the same data in both");
        // kubectl's separator between documents, not before the first; nothing else is JSON.
        let shown = String::from_utf8_lossy(&yaml.stdout);
        assert!(!shown.starts_with("---") && !shown.starts_with('{'), "{shown}");
        assert_eq!(shown.matches("\n---\n").count(), from_yaml.len() - 1, "{shown}");
    }
    // An error that ends a cluster command is a document too, as in json.
    let unreachable = rollwatch(&["wait", "deployment/web", "-o", "yaml"]);
    assert_eq!(unreachable.status.code(), Some(4), "{}", text(&unreachable));
    let error = documents(&unreachable, "yaml");
    assert_eq!((error[0]["event"].as_str(), error[0]["exit_code"].as_i64()), (Some("error"), Some(4)), "{}", text(&unreachable));
}

#[test]
fn an_output_format_a_command_has_no_form_for_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["completion", "bash", "-o", "yaml"], vec!["man", dir.path().to_str().unwrap(), "-o", "json"]] {
        let output = rollwatch(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(output.stdout.is_empty() && text(&output).contains("has no -o"), "{args:?}: {}", text(&output));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no man page written");
}
