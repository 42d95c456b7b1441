//! `rollwatch apply`: server-side apply of manifests — after a dry run of all of them, so a bad
//! manifest fails before anything changes — then tracking of every applied object.
//!
//! The server's warnings about each object go to standard error as kubectl shows them (each
//! once, though the dry run and the apply both get it), and so does a note when the server
//! cannot validate fields (`fieldValidation=Strict`, see `rollwatch_tracker::apply`).

use std::collections::HashSet;
use std::path::PathBuf;

use rollwatch_tracker::{Error, Goal, Tracker, apply, manifests, rollback, rollout, room};
use rollwatch_verdict::capacity;
use rollwatch_verdict::estimate::{Assumptions, estimate};
use rollwatch_verdict::{Manifest, ObjectRef};

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::{Deadline, command, roll_back_after_error, track};
use crate::sanitize::inline;
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
    /// The field manager to apply as: the name the server records as the owner of the fields
    /// this apply sets (as kubectl apply --server-side --field-manager).
    #[arg(long, value_name = "NAME", default_value = apply::FIELD_MANAGER)]
    field_manager: String,
    /// If a rollout fails or times out, or the apply stops midway, return the Deployments this
    /// run changed to their previous ReplicaSet's template (unless another writer has changed
    /// them since).
    #[arg(long)]
    rollback_on_failure: bool,
    #[command(flatten)]
    track: TrackArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    // Unreadable or invalid files fail before the cluster is even asked.
    let read = manifests::read(&args.files, args.recursive)
        .and_then(|read| if read.is_empty() { Err(Error::input("no objects in the given manifests")) } else { Ok(read) });
    command(global, read, |session, read| async move {
        let mut session = args.track.record(session);
        // Every phase takes its time from the one timeout.
        let deadline = Deadline::after(args.track.options(Goal::Ready).timeout);
        let options =
            apply::ApplyOptions { namespace: global.namespace.clone(), force_conflicts: args.force_conflicts, field_manager: Some(args.field_manager.clone()) };
        let mut plan = deadline.bound("the resolution of kinds", apply::plan(&session.tracker, read, &options)).await?;
        if let apply::FieldValidation::Unavailable(why) = &plan.field_validation {
            eprintln!("note: {}: unknown fields fail the dry run only for built-in kinds; custom resources may drop them silently", inline(why));
        }
        plan.record_change_cause(&rollout::change_cause(std::env::args()));
        // Whether the rollouts can start at all: a warning, never a stop (room may be freed).
        let _ = deadline.bound("checking the nodes' room", warn_unless_first_waves_fit(&session.tracker, &plan)).await;
        let mut shown = HashSet::new();
        let mut show_warnings = move |item: &apply::Item, warnings: &[String]| {
            for warning in warnings {
                if shown.insert((item.object.clone(), warning.clone())) {
                    eprintln!("warning: {}: {}", inline(&item.manifest.describe()), inline(warning));
                }
            }
        };
        deadline.bound("the server dry run", plan.dry_run(&session.tracker, &mut show_warnings)).await?;
        // From here a signal lets the writes finish, then stops tracking at once with the summary.
        let writing = session.signals.handle();
        let message = format!("server dry run passed for {} objects", plan.items.len());
        session.reporter.note(&Note { event: "dry_run", object: None, message });
        let mut marks = if args.rollback_on_failure {
            deadline.bound("reading the current revisions", rollback::mark(&session.tracker, &plan.objects())).await?
        } else {
            Vec::new()
        };
        let mut written = Vec::new();
        let reporter = session.reporter.as_mut();
        let applying = plan.apply(&session.tracker, |item, step| match step {
            apply::Step::DryRunWarnings(warnings) => show_warnings(item, warnings),
            apply::Step::Applied { stored, warnings, change } => {
                show_warnings(item, warnings);
                reporter.note(&Note { event: "applied", object: Some(item.object.clone()), message: change.as_str().into() });
                rollback::record_write(&mut marks, &item.object, stored);
                written.push(item.object.clone());
            }
        });
        if let Err(error) = deadline.bound("the apply", applying).await {
            if written.is_empty() {
                return Err(error);
            }
            // Some objects changed: the cluster is in neither the old state nor the new, a failed
            // rollout rather than a manifest to fix and retry.
            roll_back_after_error(&mut session, &marks, args.track.options(Goal::Ready), deadline).await;
            return Err(Error::cluster(incomplete_apply_report(&error, &plan.objects(), &written)));
        }
        let code = track(&mut session, plan.objects(), deadline.limit(args.track.options(Goal::Ready)), &marks).await;
        drop(writing);
        Ok(code)
    })
}

/// Warns on stderr about each rollout whose first wave of new pods does not fit the nodes' free
/// allocatable, as `rollwatch plan --cluster` tells it; notes when the nodes or pods cannot be read.
async fn warn_unless_first_waves_fit(tracker: &Tracker, plan: &apply::Plan) -> Result<(), Error> {
    let workloads: Vec<&Manifest> = plan
        .items
        .iter()
        .map(|item| &item.manifest)
        .filter(|manifest| matches!(manifest.object.get("kind").and_then(|k| k.as_str()), Some("Deployment" | "StatefulSet" | "DaemonSet")))
        .collect();
    if workloads.is_empty() {
        return Ok(());
    }
    let free = match room::free_room(tracker.client()).await {
        Ok(free) => free,
        Err(error) => {
            eprintln!("note: cannot check whether the new pods fit the nodes: {}", inline(&error.to_string()));
            return Ok(());
        }
    };
    let assumptions = Assumptions { nodes: u32::try_from(free.len()).ok(), ..Assumptions::default() };
    for manifest in workloads {
        let Ok(estimate) = estimate(&manifest.object, &assumptions) else { continue };
        if let Ok(fit) = capacity::first_wave_fit(&manifest.object, &estimate, &free)
            && !fit.fits
        {
            eprintln!("warning: {}", inline(&fit.message));
        }
    }
    Ok(())
}

/// What an apply that stopped midway did and did not do.
fn incomplete_apply_report(error: &Error, planned: &[ObjectRef], written: &[ObjectRef]) -> String {
    let names = |objects: Vec<&ObjectRef>| objects.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", ");
    let not_written: Vec<&ObjectRef> = planned.iter().filter(|o| !written.contains(o)).collect();
    let (done, all) = (written.len(), planned.len());
    format!("the apply stopped after {done} of {all} objects: {error}\napplied: {}\nnot applied: {}", names(written.iter().collect()), names(not_written))
}
