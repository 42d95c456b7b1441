//! `rollwatch restart KIND/NAME`: replace every pod of a Deployment, StatefulSet or DaemonSet
//! with a rollout (the `kubectl.kubernetes.io/restartedAt` template annotation, as kubectl),
//! then track it.

use rollwatch_tracker::{Error, Goal, rollout};
use rollwatch_verdict::ObjectRef;

use crate::Global;
use crate::exit::Code;
use crate::report::Note;
use crate::run::{command, track};
use crate::track_args::TrackArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workload (deployment/web, sts/db, ds/agent).
    #[arg(value_name = "KIND/NAME")]
    object: String,
    /// Do not track the rollout; exit once it is started.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    track: TrackArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = args.object.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string())).and_then(|object| {
        rollout::check_has_history(&object)?;
        Ok(object)
    });
    command(global, parsed, |mut session, object| async move {
        let object = object.in_namespace(&session.namespace);
        rollout::restart(&session.tracker, &object, jiff::Timestamp::now(), &rollout::change_cause(std::env::args())).await?;
        session.reporter.note(&Note { event: "restarted", object: Some(object.clone()), message: "restarted: its pods are being replaced".into() });
        if args.no_wait {
            return Ok(Code::Ready);
        }
        Ok(track(&mut session, vec![object], args.track.options(Goal::Ready), &[]).await)
    })
}
