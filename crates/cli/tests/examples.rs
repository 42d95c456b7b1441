//! The recipes in `examples/` use the command line as it is: every rollwatch command in them
//! (shell lines of scripts and CI files, container args of Jobs) parses, so a renamed flag
//! cannot leave a recipe behind.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files(&path, found) } else { found.push(path) }
    }
}

/// The arguments of a `rollwatch ...` shell line, up to a pipe, redirection or list operator,
/// with variables standing for one word each.
fn shell_command(line: &str) -> Option<Vec<String>> {
    let start = line.find("rollwatch ")?;
    let command = &line[start + "rollwatch ".len()..];
    let end = [" | ", " > ", " && ", " || ", " ;"].iter().filter_map(|op| command.find(op)).min().unwrap_or(command.len());
    let words: Vec<String> = command[..end].split_whitespace().map(|word| word.trim_matches('"').to_string()).collect();
    let subcommands = ["apply", "wait", "status", "check", "set", "plan", "history", "undo", "pause", "resume", "restart", "completion", "man"];
    subcommands.contains(&words.first()?.as_str()).then_some(words)
}

/// The args of every container whose image is rollwatch's, in a Kubernetes manifest.
fn container_commands(text: &str) -> Vec<Vec<String>> {
    use serde::Deserialize;
    let mut found = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let object = serde_json::Value::deserialize(document).expect("YAML");
        let containers = object["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
        for container in containers.iter().filter(|c| c["image"].as_str().is_some_and(|image| image.starts_with("rollwatch"))) {
            found.push(container["args"].as_array().expect("args").iter().map(|arg| arg.as_str().unwrap().to_string()).collect());
        }
    }
    found
}

#[test]
fn every_rollwatch_command_in_the_examples_parses() {
    let mut paths = Vec::new();
    files(&examples(), &mut paths);
    let mut checked = 0;
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut commands: Vec<Vec<String>> = text.lines().filter(|line| !line.trim_start().starts_with('#')).filter_map(shell_command).collect();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            commands.extend(container_commands(&text));
        }
        for args in commands {
            // --help after the arguments: clap reads each of them first, so a flag or value
            // it does not take fails (exit 2), and nothing talks to a cluster.
            let output = Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(&args).arg("--help").output().unwrap();
            assert_eq!(output.status.code(), Some(0), "{}: rollwatch {}\n{}", path.display(), args.join(" "), String::from_utf8_lossy(&output.stderr));
            checked += 1;
        }
    }
    // helm, argocd, github-actions, gitlab-ci and in-cluster each have one.
    assert!(checked >= 5, "only {checked} commands found in the examples");
}

#[test]
fn a_changed_flag_is_caught() {
    let args = shell_command("  rollwatch wait -f - --no-such-flag | tee out").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rollwatch")).args(&args).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
