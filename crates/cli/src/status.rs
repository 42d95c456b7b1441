//! `rollwatch status`: one snapshot of the verdicts, no waiting; the exit code tells (0 all
//! ready, 1 one failed, 3 not ready yet).

use std::time::Duration;

use rollwatch_tracker::{Error, FeedMode, Goal, TrackOptions};

use crate::Global;
use crate::exit::Code;
use crate::policy_args::PolicyArgs;
use crate::run::{command, track};
use crate::targets::TargetArgs;

/// How long a status may take to list what it needs before it gives up (exit code 3).
const STATUS_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    tolerances: PolicyArgs,
    /// Log lines to show of each failing container.
    #[arg(long, value_name = "N", default_value_t = 20)]
    logs_tail: u32,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    command(global, args.targets.check(), |mut session, ()| async move {
        let objects = args.targets.resolve(&session.tracker, &session.namespace, global.namespace.as_deref()).await?;
        if objects.is_empty() {
            return Err(Error::input("no objects match"));
        }
        let options = TrackOptions {
            policy: args.tolerances.policy(),
            mode: FeedMode::Once,
            goal: Goal::Ready,
            fail_fast: false,
            timeout: Some(STATUS_TIMEOUT),
            logs_tail: args.logs_tail,
            all_namespaces: args.targets.all_namespaces,
            ..TrackOptions::default()
        };
        Ok(track(&mut session, objects, options, &[]).await)
    })
}
