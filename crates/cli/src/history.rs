//! `rollwatch history KIND/NAME`: the revisions of a Deployment, StatefulSet or DaemonSet with
//! what `kubectl rollout history` leaves out — age, images, change cause, pods running each —
//! one revision's pod template (`--revision N`), or what changed between two (`--diff N M`).

use rollwatch_tracker::{Error, rollout};
use rollwatch_verdict::ObjectRef;
use rollwatch_verdict::history::{self, Revision, diff};
use serde_json::json;

use crate::exit::Code;
use crate::run::command;
use crate::sanitize::{self, inline};
use crate::{Global, Output, render, workload};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workload (deployment/web, sts/db, ds/agent).
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// The name, when the kind is given alone as kubectl takes it (`deployment web`).
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Show this revision's pod template.
    #[arg(long, value_name = "N", conflicts_with = "diff")]
    revision: Option<i64>,
    /// Show what changed in the pod template from revision N to revision M.
    #[arg(long, num_args = 2, value_names = ["N", "M"])]
    diff: Option<Vec<i64>>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = workload::parse(&args.object, args.name.as_deref(), rollout::check_has_history);
    command(global, parsed, |session, object| async move {
        let object = object.in_namespace(&session.namespace);
        let read = rollout::history(&session.tracker, &object).await?;
        if global.output == Output::Name {
            println!("{}", inline(&object.to_string()));
            return Ok(Code::Ready);
        }
        let find = |number: i64| history::find(&read.revisions, number).map_err(|e| Error::input(format!("{object}: {e}")));
        let now = jiff::Timestamp::now();
        match (args.revision, args.diff.as_deref()) {
            (Some(number), _) => show_revision(global.output, &object, find(number)?, &read.objects, now),
            (None, Some(&[from, to])) => show_diff(global.output, &object, find(from)?, find(to)?),
            _ => show_list(global.output, &object, &read.revisions, now),
        }
        Ok(Code::Ready)
    })
}

fn show_list(output: Output, object: &ObjectRef, revisions: &[Revision], now: jiff::Timestamp) {
    if matches!(output, Output::Json | Output::Yaml) {
        let listed: Vec<_> = revisions.iter().map(|r| summary_json(r, now)).collect();
        println!("{}", render::document(output, &json!({"object": object, "revisions": listed})));
        return;
    }
    println!("{}", inline(&object.to_string()));
    let mut rows = vec![["REVISION", "AGE", "PODS", "IMAGES", "CHANGE-CAUSE"].map(String::from)];
    for revision in revisions {
        let number = if revision.current { format!("{} (current)", revision.number) } else { revision.number.to_string() };
        let cause = revision.change_cause.as_deref().map_or_else(|| "<none>".into(), inline);
        let images: Vec<String> = revision.images.iter().map(|image| inline(image)).collect();
        rows.push([number, age(revision, now), revision.pods.to_string(), images.join(","), cause]);
    }
    let widths: Vec<usize> = (0..5).map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

/// In YAML the ReplicaSet or ControllerRevision that holds the revision (among `objects`), as
/// `kubectl rollout history --revision N -o yaml` prints it (without managedFields, as kubectl
/// hides them), so that its output and kubectl's can be used alike.
fn show_revision(output: Output, object: &ObjectRef, revision: &Revision, objects: &[serde_json::Value], now: jiff::Timestamp) {
    match output {
        Output::Json => {
            let mut shown = summary_json(revision, now);
            shown["template"] = revision.template.clone();
            println!("{}", sanitize::json(&json!({"object": object, "revision": shown})));
            return;
        }
        Output::Yaml => {
            let holder = objects.iter().find(|held| held.pointer("/metadata/name").and_then(|name| name.as_str()) == Some(revision.name.as_str()));
            let mut shown = holder.cloned().expect("a revision is read from one of the objects");
            if let Some(metadata) = shown.get_mut("metadata").and_then(|metadata| metadata.as_object_mut()) {
                metadata.remove("managedFields");
            }
            println!("{}", render::document(output, &shown));
            return;
        }
        Output::Text | Output::Name => {}
    }
    let current = if revision.current { ", current" } else { "" };
    let object = inline(&object.to_string());
    println!("{object} revision {} ({}{current}), created {} ago", revision.number, inline(&revision.name), age(revision, now));
    println!("change cause: {}", revision.change_cause.as_deref().map_or_else(|| "<none>".into(), inline));
    println!("pods running it: {}", revision.pods);
    println!("pod template:");
    let yaml = serde_norway::to_string(&revision.template).unwrap_or_else(|e| format!("(cannot show as YAML: {e})"));
    for line in yaml.lines() {
        println!("  {}", sanitize::lines(line));
    }
}

fn show_diff(output: Output, object: &ObjectRef, from: &Revision, to: &Revision) {
    let changes = diff::diff(&from.template, &to.template);
    if matches!(output, Output::Json | Output::Yaml) {
        println!("{}", render::document(output, &json!({"object": object, "from": from.number, "to": to.number, "changes": changes})));
        return;
    }
    println!("{}: pod template of revision {} -> revision {}", inline(&object.to_string()), from.number, to.number);
    if changes.is_empty() {
        println!("  no differences");
    }
    let mut scope = None;
    for change in &changes {
        if scope != Some(&change.scope) {
            match &change.scope {
                diff::Scope::Pod => println!("pod:"),
                diff::Scope::Container(name) => println!("container {}:", inline(name)),
            }
            scope = Some(&change.scope);
        }
        let shown = match (&change.from, &change.to) {
            (Some(from), Some(to)) => format!("{} -> {}", inline(from), inline(to)),
            (None, Some(to)) => format!("added: {}", inline(to)),
            (Some(from), None) => format!("removed (was {})", inline(from)),
            (None, None) => "changed".to_string(),
        };
        println!("  {}: {shown}", inline(&change.field));
    }
}

fn summary_json(revision: &Revision, now: jiff::Timestamp) -> serde_json::Value {
    json!({
        "revision": revision.number,
        "name": revision.name,
        "created": revision.created,
        "age_seconds": revision.created.map(|c| now.duration_since(c).as_secs()),
        "change_cause": revision.change_cause,
        "images": revision.images,
        "pods": revision.pods,
        "current": revision.current,
    })
}

/// `45s`, `12m`, `5h`, `3d`, as kubectl shows ages.
fn age(revision: &Revision, now: jiff::Timestamp) -> String {
    let Some(created) = revision.created else { return "<unknown>".into() };
    let seconds = now.duration_since(created).as_secs().max(0);
    match seconds {
        0..120 => format!("{seconds}s"),
        120..7200 => format!("{}m", seconds / 60),
        7200..172_800 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}
