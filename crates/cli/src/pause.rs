//! `rollwatch pause deployment/NAME`: stop a Deployment's rollout where it is (template changes
//! wait until `rollwatch resume`).

use rollwatch_tracker::rollout;

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::command;
use crate::workload;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Deployment (deployment/web); other kinds cannot be paused.
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// The name, when the kind is given alone as kubectl takes it (`deployment web`).
    #[arg(value_name = "NAME")]
    name: Option<String>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = workload::parse(&args.object, args.name.as_deref(), rollout::check_pausable);
    command(global, parsed, |mut session, object| async move {
        let object = object.in_namespace(&session.namespace);
        let changed = rollout::set_paused(&session.tracker, &object, true).await?;
        let (event, message) = if changed { ("paused", "paused: its rollout stops where it is until resumed") } else { ("already_paused", "already paused") };
        session.reporter.note(&Note { event, object: Some(object), message: message.into() });
        Ok(Code::Ready)
    })
}
