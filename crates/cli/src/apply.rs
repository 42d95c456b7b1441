//! `rollwatch apply`: server-side apply of manifests — after a dry run of all of them, so a bad
//! manifest fails before anything changes — then tracking of every applied object.
//!
//! The server's warnings about each object go to standard error as kubectl shows them (each
//! once, though the dry run and the apply both get it), and so does a note when the server
//! cannot validate fields (`fieldValidation=Strict`, see `rollwatch_tracker::apply`).

use std::collections::HashSet;
use std::path::PathBuf;

use rollwatch_tracker::{Error, Goal, apply, manifests, rollback, rollout};

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::{command, track};
use crate::track_args::TrackArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Manifests to apply: files, directories, - for standard input.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    files: Vec<PathBuf>,
    /// Read the directories given with -f recursively.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Take over fields that another field manager owns instead of failing on the conflict.
    #[arg(long)]
    force_conflicts: bool,
    /// If a rollout fails, return the Deployments this run changed to their previous
    /// ReplicaSet's template.
    #[arg(long)]
    rollback_on_failure: bool,
    #[command(flatten)]
    track: TrackArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    // Unreadable or invalid files fail before the cluster is even asked.
    let read = manifests::read(&args.files, args.recursive).and_then(|read| {
        if read.is_empty() {
            Err(Error::input("no objects in the given manifests"))
        } else {
            Ok(read)
        }
    });
    command(global, read, |mut session, read| async move {
        let options = apply::ApplyOptions {
            namespace: global.namespace.clone(),
            force_conflicts: args.force_conflicts,
        };
        let mut plan = apply::plan(&session.tracker, read, &options).await?;
        if let apply::FieldValidation::Unavailable(why) = &plan.field_validation {
            eprintln!(
                "note: {why}: unknown fields fail the dry run only for built-in kinds; custom resources may drop them silently"
            );
        }
        plan.record_change_cause(&rollout::change_cause(std::env::args()));
        let mut shown = HashSet::new();
        let mut show_warnings = move |item: &apply::Item, warnings: &[String]| {
            for warning in warnings {
                if shown.insert((item.object.clone(), warning.clone())) {
                    eprintln!("warning: {}: {warning}", item.manifest.describe());
                }
            }
        };
        plan.dry_run(&session.tracker, &mut show_warnings).await?;
        let message = format!("server dry run passed for {} objects", plan.items.len());
        session.reporter.note(&Note {
            event: "dry_run",
            object: None,
            message,
        });
        let marks = if args.rollback_on_failure {
            rollback::mark(&session.tracker, &plan.objects()).await?
        } else {
            Vec::new()
        };
        let reporter = session.reporter.as_mut();
        plan.apply(&session.tracker, |item, warnings| {
            show_warnings(item, warnings);
            reporter.note(&Note {
                event: "applied",
                object: Some(item.object.clone()),
                message: "applied".into(),
            });
        })
        .await?;
        Ok(track(
            &mut session,
            plan.objects(),
            args.track.options(Goal::Ready),
            &marks,
        )
        .await)
    })
}
