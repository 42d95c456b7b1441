//! `rollwatch wait`: track existing objects until all are ready (or deleted) or one fails.

use clap::ValueEnum;
use rollwatch_tracker::{Error, Goal, TrackOptions};

use crate::Global;
use crate::exit::Code;
use crate::run::{command, track};
use crate::targets::TargetArgs;
use crate::track_args::TrackArgs;

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
    /// Also `delete`, as kubectl wait spells it.
    #[value(alias = "delete")]
    Deleted,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let goal = match args.wait_for {
        WaitFor::Ready => Goal::Ready,
        WaitFor::Deleted => Goal::Deleted,
    };
    command(global, args.targets.check(), |session, ()| async move {
        let mut session = args.track.record(session);
        let objects = args.targets.resolve(&session.tracker, &session.namespace, global.namespace.as_deref()).await?;
        if objects.is_empty() {
            // Matched on the flag, not on `Goal` (non-exhaustive): each choice is decided here.
            return match args.wait_for {
                WaitFor::Deleted => Ok(Code::Ready),
                WaitFor::Ready => Err(Error::input("no objects match: nothing to wait for")),
            };
        }
        let options = TrackOptions { all_namespaces: args.targets.all_namespaces, ..args.track.options(goal) };
        Ok(track(&mut session, objects, options, &[]).await)
    })
}
