//! `rollwatch status`: one snapshot of the verdicts, no waiting; the exit code tells (0 all
//! ready, 1 one failed, 3 not ready yet).

use std::time::Duration;

use rollwatch_tracker::{FeedMode, Goal, TrackOptions};

use crate::Global;
use crate::render::reporter;
use crate::run::{connect, fail, track};
use crate::targets::TargetArgs;
use crate::track_args::Tolerances;

/// How long a status may take to list what it needs before it gives up (exit code 3).
const STATUS_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    tolerances: Tolerances,
    /// Log lines to show of each failing container.
    #[arg(long, value_name = "N", default_value_t = 20)]
    logs_tail: u32,
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
        Ok(objects) if objects.is_empty() => return fail(reporter.as_mut(), &rollwatch_tracker::Error::input("no objects match")),
        Ok(objects) => objects,
        Err(error) => return fail(reporter.as_mut(), &error),
    };
    let options = TrackOptions {
        policy: args.tolerances.policy(),
        mode: FeedMode::Once,
        goal: Goal::Ready,
        fail_fast: false,
        timeout: Some(STATUS_TIMEOUT),
        logs_tail: args.logs_tail,
        ..TrackOptions::default()
    };
    track(&tracker, objects, options, reporter.as_mut(), &[]).await
}
