//! The exit codes of the command-line contract, and what the tracker's results map to.

use rollwatch_tracker::{End, Error, ErrorKind};

/// Everything is ready.
pub const READY: u8 = 0;
/// A rollout failed.
pub const FAILED: u8 = 1;
/// Usage or manifest error: bad flags, an unreadable or invalid file, a rejected dry run.
pub const USAGE: u8 = 2;
/// Not ready in time (for one-shot `status`: not ready yet).
pub const NOT_READY: u8 = 3;
/// The cluster cannot be used: unreachable, unauthorized, forbidden.
pub const CLUSTER_ACCESS: u8 = 4;
/// Interrupted (Ctrl-C).
pub const INTERRUPTED: u8 = 130;

/// The exit codes, for `--help`.
pub const HELP: &str = "Exit codes:
  0    everything ready
  1    a rollout failed
  2    usage or manifest error (bad flags, unreadable or invalid file)
  3    not ready in time (timeout; for `status`: not ready yet)
  4    cluster access error (unreachable, unauthorized, forbidden)
  130  interrupted (Ctrl-C)";

pub fn for_end(end: &End) -> u8 {
    match end {
        End::Ready => READY,
        End::Failed => FAILED,
        End::NotReady | End::TimedOut => NOT_READY,
        End::Interrupted => INTERRUPTED,
        End::Error(error) => for_error(error),
    }
}

pub fn for_error(error: &Error) -> u8 {
    match error.kind {
        ErrorKind::Input => USAGE,
        ErrorKind::Access => CLUSTER_ACCESS,
        ErrorKind::Cluster => FAILED,
    }
}
