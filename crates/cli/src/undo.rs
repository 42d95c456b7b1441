//! `rollwatch undo KIND/NAME [--to-revision N]`: back to an earlier revision's pod template, as
//! `kubectl rollout undo` does, then track the rollback until it is ready.

use rollwatch_tracker::rollout::{self, Undone};

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::command;
use crate::workload::{self, Follow};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workload (deployment/web, sts/db, ds/agent).
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// The name, when the kind is given alone as kubectl takes it (`deployment web`).
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// The revision to return to (default: the one before the current).
    #[arg(long, value_name = "N")]
    to_revision: Option<i64>,
    #[command(flatten)]
    follow: Follow,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = workload::parse(&args.object, args.name.as_deref(), rollout::check_has_history);
    command(global, parsed, |session, object| async move {
        let mut session = args.follow.record(session);
        let object = object.in_namespace(&session.namespace);
        let cause = rollout::change_cause(std::env::args());
        let note = match rollout::undo(&session.tracker, &object, args.to_revision, &cause).await? {
            Undone::AlreadyCurrent { revision } => {
                let message = format!("nothing to undo: the current template already is revision {revision}'s");
                session.reporter.note(&Note { event: "undo_skipped", object: Some(object), message });
                return Ok(Code::Ready);
            }
            Undone::Restored { revision, images } => {
                Note { event: "undone", object: Some(object.clone()), message: format!("rolled back to revision {revision} (images: {})", images.join(", ")) }
            }
        };
        session.reporter.note(&note);
        Ok(args.follow.follow(&mut session, object).await)
    })
}
