//! `rollwatch resume deployment/NAME`: let a paused Deployment roll out again, then track it.

use rollwatch_tracker::{Error, Goal, rollout};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::{command, track};
use crate::track_args::TrackArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Deployment (deployment/web); other kinds cannot be paused.
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// Do not track the rollout; exit once it is resumed.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    track: TrackArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = args.object.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string())).and_then(|object| {
        rollout::check_pausable(&object)?;
        Ok(object)
    });
    command(global, parsed, |mut session, object| async move {
        let object = object.in_namespace(&session.namespace);
        let changed = rollout::set_paused(&session.tracker, &object, false).await?;
        let (event, message) = if changed { ("resumed", "resumed") } else { ("not_paused", "was not paused") };
        session.reporter.note(&Note { event, object: Some(object.clone()), message: message.into() });
        if args.no_wait {
            return Ok(Code::Ready);
        }
        Ok(track(&mut session, vec![object], args.track.options(Goal::Ready), &[]).await)
    })
}
