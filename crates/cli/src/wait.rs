//! `rollwatch wait`: track existing objects until all are ready (or deleted) or one fails.

use clap::ValueEnum;
use rollwatch_tracker::Goal;

use crate::render::reporter;
use crate::run::{connect, fail, track};
use crate::targets::TargetArgs;
use crate::track_args::TrackArgs;
use crate::{Global, exit_code};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    targets: TargetArgs,
    /// What to wait for.
    #[arg(long = "for", value_enum, default_value_t = WaitFor::Ready)]
    wait_for: WaitFor,
    #[command(flatten)]
    track: TrackArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WaitFor {
    Ready,
    Deleted,
}

pub async fn run(global: &Global, args: Args) -> u8 {
    let mut reporter = reporter(global.output, global.namespace.as_deref().unwrap_or_default());
    if let Err(error) = args.targets.check() {
        return fail(reporter.as_mut(), &error);
    }
    let (tracker, namespace) = match connect(global).await {
        Ok(connected) => connected,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let mut reporter = crate::render::reporter(global.output, &namespace);
    let objects = match args.targets.resolve(&tracker, &namespace, global.namespace.as_deref()).await {
        Ok(objects) => objects,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let goal = match args.wait_for {
        WaitFor::Ready => Goal::Ready,
        WaitFor::Deleted => Goal::Deleted,
    };
    if objects.is_empty() {
        if goal == Goal::Deleted {
            return exit_code::READY;
        }
        let error = rollwatch_tracker::Error::input("no objects match: nothing to wait for");
        return fail(reporter.as_mut(), &error);
    }
    track(&tracker, objects, args.track.options(goal), reporter.as_mut(), &[]).await
}
