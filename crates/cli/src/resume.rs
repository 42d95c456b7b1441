//! `rollwatch resume deployment/NAME`: let a paused Deployment roll out again, then track it.

use rollwatch_tracker::rollout;

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::command;
use crate::workload::{self, Follow};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Deployment (deployment/web); other kinds cannot be paused.
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// The name, when the kind is given alone as kubectl takes it (`deployment web`).
    #[arg(value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    follow: Follow,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = workload::parse(&args.object, args.name.as_deref(), rollout::check_pausable);
    command(global, parsed, |session, object| async move {
        let mut session = args.follow.record(session);
        let object = object.in_namespace(&session.namespace);
        let changed = rollout::set_paused(&session.tracker, &object, false).await?;
        let (event, message) = if changed { ("resumed", "resumed") } else { ("not_paused", "was not paused") };
        session.reporter.note(&Note { event, object: Some(object.clone()), message: message.into() });
        Ok(args.follow.follow(&mut session, object).await)
    })
}
