//! What the rollout-management commands share: one workload named as KIND/NAME (or kubectl's
//! KIND NAME), refused before the cluster is asked when its kind cannot do what the command
//! does, and the tracking of the rollout a command starts (unless `--no-wait`).

use rollwatch_tracker::{Error, Goal};
use rollwatch_verdict::ObjectRef;

use crate::exit::Code;
use crate::run::{Session, track};
use crate::track_args::TrackArgs;

/// `text` as KIND/NAME, or `text` as KIND and `name` after it, with `capable` checking that
/// its kind supports the command.
pub fn parse(text: &str, name: Option<&str>, capable: fn(&ObjectRef) -> Result<(), Error>) -> Result<ObjectRef, Error> {
    let object = joined(text, name)?.parse::<ObjectRef>().map_err(|e| Error::input(e.to_string()))?;
    capable(&object)?;
    Ok(object)
}

/// KIND/NAME from kubectl's two spellings: `deployment/web`, or `deployment` and `web`.
pub fn joined(text: &str, name: Option<&str>) -> Result<String, Error> {
    match name {
        None => Ok(text.to_string()),
        Some(name) if text.contains('/') || name.contains('/') => {
            Err(Error::input(format!("give the object as KIND/NAME or as KIND NAME, not {text:?} and {name:?}")))
        }
        Some(name) => Ok(format!("{text}/{name}")),
    }
}

/// The flags of a command that starts a rollout: whether to follow it, and how.
#[derive(clap::Args, Debug)]
pub struct Follow {
    /// Do not track the rollout this starts; exit once it has started.
    #[arg(long)]
    no_wait: bool,
    #[command(flatten)]
    track: TrackArgs,
}

impl Follow {
    /// The session recording a timeline with `--timeline` (see [`TrackArgs::record`]).
    pub fn record(&self, session: Session) -> Session {
        self.track.record(session)
    }

    /// Tracks `object` until it is ready (or fails), unless `--no-wait`.
    pub async fn follow(&self, session: &mut Session, object: ObjectRef) -> Code {
        if self.no_wait {
            return Code::Ready;
        }
        track(session, vec![object], self.track.options(Goal::Ready), &[]).await
    }
}
