//! `rollwatch set image KIND/NAME CONTAINER=IMAGE...`: set images as `kubectl set image` does,
//! then track the rollout.

use rollwatch_tracker::set_image::{ImageAssignment, set_image};
use rollwatch_tracker::{Error, Goal, rollback};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::render::{Note, reporter};
use crate::run::{connect, fail, track};
use crate::track_args::TrackArgs;

#[derive(clap::Subcommand, Debug)]
pub enum SetCommand {
    /// Set container images of a workload, then track its rollout.
    Image(Args),
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workload (deployment/web, sts/db, ds/agent, ...).
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

pub async fn run(global: &Global, args: Args) -> u8 {
    let mut reporter = reporter(global.output, global.namespace.as_deref().unwrap_or_default());
    let parsed = args.object.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string())).and_then(|object| {
        let assignments = args.images.iter().map(|a| a.parse::<ImageAssignment>()).collect::<Result<Vec<_>, _>>()?;
        Ok((object, assignments))
    });
    let (object, assignments) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let (tracker, namespace) = match connect(global).await {
        Ok(connected) => connected,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let mut reporter = crate::render::reporter(global.output, &namespace);
    let object = object.in_namespace(&namespace);
    let marks = if args.rollback_on_failure {
        match rollback::mark(&tracker, std::slice::from_ref(&object)).await {
            Ok(marks) => marks,
            Err(error) => return fail(reporter.as_mut(), &error),
        }
    } else {
        Vec::new()
    };
    match set_image(&tracker, &object, &assignments).await {
        Ok(changes) => {
            for change in changes {
                let message = format!("container {}: image {} -> {}", change.container, change.from, change.to);
                reporter.note(&Note { event: "image_set", object: Some(object.clone()), message });
            }
        }
        Err(error) => return fail(reporter.as_mut(), &error),
    }
    track(&tracker, vec![object], args.track.options(Goal::Ready), reporter.as_mut(), &marks).await
}
