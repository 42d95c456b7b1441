//! `rollwatch apply`: server-side apply of manifests — after a dry run of all of them, so a bad
//! manifest fails before anything changes — then tracking of every applied object.

use std::path::PathBuf;

use rollwatch_tracker::{Goal, apply, manifests, rollback};

use crate::Global;
use crate::render::{Note, reporter};
use crate::run::{connect, fail, track};
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

pub async fn run(global: &Global, args: Args) -> u8 {
    let mut reporter = reporter(global.output, global.namespace.as_deref().unwrap_or_default());
    // Unreadable or invalid files fail before the cluster is even asked.
    let read = match manifests::read(&args.files, args.recursive) {
        Ok(read) if read.is_empty() => return fail(reporter.as_mut(), &rollwatch_tracker::Error::input("no objects in the given manifests")),
        Ok(read) => read,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let (tracker, namespace) = match connect(global).await {
        Ok(connected) => connected,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let mut reporter = crate::render::reporter(global.output, &namespace);
    let options = apply::ApplyOptions { namespace: global.namespace.clone(), force_conflicts: args.force_conflicts };
    let plan = match apply::plan(&tracker, read, &options).await {
        Ok(plan) => plan,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    if let Err(error) = plan.dry_run(&tracker).await {
        return fail(reporter.as_mut(), &error);
    }
    let count = plan.items.len();
    reporter.note(&Note { event: "dry_run", object: None, message: format!("server dry run passed for {count} objects") });
    let marks = if args.rollback_on_failure {
        match rollback::mark(&tracker, &plan.objects()).await {
            Ok(marks) => marks,
            Err(error) => return fail(reporter.as_mut(), &error),
        }
    } else {
        Vec::new()
    };
    let applied = plan
        .apply(&tracker, |item| {
            reporter.note(&Note { event: "applied", object: Some(item.object.clone()), message: "applied".into() });
        })
        .await;
    if let Err(error) = applied {
        return fail(reporter.as_mut(), &error);
    }
    track(&tracker, plan.objects(), args.track.options(Goal::Ready), reporter.as_mut(), &marks).await
}
