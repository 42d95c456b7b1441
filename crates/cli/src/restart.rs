//! `rollwatch restart KIND/NAME`: replace every pod of a Deployment, StatefulSet or DaemonSet
//! with a rollout (the `kubectl.kubernetes.io/restartedAt` template annotation, as kubectl),
//! then track it.

use rollwatch_tracker::rollout;

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
    #[command(flatten)]
    follow: Follow,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let parsed = workload::parse(&args.object, args.name.as_deref(), rollout::check_restartable);
    command(global, parsed, |session, object| async move {
        let mut session = args.follow.record(session);
        let object = object.in_namespace(&session.namespace);
        rollout::restart(&session.tracker, &object, jiff::Timestamp::now(), &rollout::change_cause(std::env::args())).await?;
        session.reporter.note(&Note { event: "restarted", object: Some(object.clone()), message: "restarted: its pods are being replaced".into() });
        Ok(args.follow.follow(&mut session, object).await)
    })
}
