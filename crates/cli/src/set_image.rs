//! `rollwatch set image KIND/NAME CONTAINER=IMAGE...`: set images as `kubectl set image` does,
//! then track the rollout.

use rollwatch_tracker::set_image::{ImageAssignment, set_image};
use rollwatch_tracker::{Error, Goal, rollback, rollout};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::{Deadline, command, track};
use crate::track_args::TrackArgs;

#[derive(clap::Subcommand, Debug)]
pub enum SetCommand {
    /// Set container images of a workload, then track its rollout.
    #[command(after_help = crate::exit::help())]
    Image(Args),
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workload (deployment/web, sts/db, ds/agent, ...), or its kind with the name next
    /// (`deployment web app=repo/app:v2`, as kubectl takes it).
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// CONTAINER=IMAGE (container * means every container).
    #[arg(value_name = "CONTAINER=IMAGE", required = true)]
    images: Vec<String>,
    /// If the rollout fails, return a Deployment to its previous ReplicaSet's template.
    #[arg(long)]
    rollback_on_failure: bool,
    #[command(flatten)]
    track: TrackArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    // kubectl's KIND NAME: the name is the first word that is no assignment.
    let (name, images) = match args.images.split_first() {
        Some((first, rest)) if !args.object.contains('/') && !first.contains('=') => (Some(first.as_str()), rest),
        _ => (None, args.images.as_slice()),
    };
    let parsed =
        crate::workload::joined(&args.object, name).and_then(|text| text.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string()))).and_then(|object| {
            let assignments = images.iter().map(|a| a.parse::<ImageAssignment>()).collect::<Result<Vec<_>, _>>()?;
            if assignments.is_empty() {
                return Err(Error::input("expected CONTAINER=IMAGE after the workload"));
            }
            Ok((object, assignments))
        });
    command(global, parsed, |session, (object, assignments)| async move {
        let mut session = args.track.record(session);
        let object = object.in_namespace(&session.namespace);
        // The change and the tracking share the one timeout.
        let deadline = Deadline::after(args.track.options(Goal::Ready).timeout);
        let mut marks = if args.rollback_on_failure {
            deadline.bound("reading the current revision", rollback::mark(&session.tracker, std::slice::from_ref(&object))).await?
        } else {
            Vec::new()
        };
        let cause = rollout::change_cause(std::env::args());
        let set = deadline.bound("setting the images", set_image(&session.tracker, &object, &assignments, &cause)).await?;
        rollback::record_write(&mut marks, &object, &set.stored);
        for change in set.changes {
            let message = format!("container {}: image {} -> {}", change.container, change.from, change.to);
            session.reporter.note(&Note { event: "image_set", object: Some(object.clone()), message });
        }
        Ok(track(&mut session, vec![object], deadline.limit(args.track.options(Goal::Ready)), &marks).await)
    })
}
