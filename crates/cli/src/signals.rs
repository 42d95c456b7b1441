//! SIGINT (a terminal's Ctrl-C) and SIGTERM (how CI systems cancel a job).
//!
//! While rollwatch writes to the cluster or tracks, the first signal stops it cleanly: writes
//! under way are finished (nothing half-applied), tracking stops, and the summary is printed
//! with exit code 130 (SIGINT) or 143 (SIGTERM), the shells' 128 + signal number. A second signal
//! ends the command at once. Outside those phases (connecting, reading, a dry run) there is
//! nothing to finish, so the first signal ends the command at once with the same code.
//!
//! Ending at once is not `std::process::exit` from the listener: it resolves
//! [`Signals::ended`], and the command's runner drops the command's future, so what it holds
//! is dropped as on any other end (a `--timeline` file is written with what was recorded). Work
//! in flight is abandoned there as `exit` would abandon it; a third signal, should dropping
//! itself hang, does exit the process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::exit::Code;

/// Which signal asked rollwatch to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
}

impl Stop {
    pub fn code(self) -> Code {
        match self {
            Stop::Interrupt => Code::Interrupted,
            Stop::Terminate => Code::Terminated,
        }
    }
}

/// The signals received so far, shared by the parts of a command that stop cleanly.
#[derive(Clone)]
pub struct Signals {
    received: watch::Receiver<Option<Stop>>,
    /// The signal that ends the command at once, once one has: see [`Signals::ended`].
    ending: watch::Receiver<Option<Stop>>,
    /// How many [`Handling`] guards are alive: with none, a signal ends the process at once.
    handlers: Arc<AtomicUsize>,
}

impl Signals {
    /// Starts listening for SIGINT and SIGTERM; must be called within the Tokio runtime.
    pub fn listen() -> std::io::Result<Self> {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (sender, received) = watch::channel(None);
        let (end, ending) = watch::channel(None);
        let handlers = Arc::new(AtomicUsize::new(0));
        let handled = handlers.clone();
        tokio::spawn(async move {
            loop {
                let stop = tokio::select! {
                    Some(()) = interrupt.recv() => Stop::Interrupt,
                    Some(()) = terminate.recv() => Stop::Terminate,
                    else => return,
                };
                // Read apart from the match: a borrow held in it would deadlock `send_replace`.
                let first = sender.borrow().is_none();
                if end.borrow().is_some() {
                    // The command was told to end and has not yet: nothing is left to wait for.
                    std::process::exit(i32::from(stop.code() as u8));
                }
                match on_signal(first, handled.load(Ordering::SeqCst) > 0) {
                    Action::PassOn => {
                        sender.send_replace(Some(stop));
                    }
                    Action::Exit { second } => {
                        if second {
                            eprintln!("rollwatch: a second signal: stopping at once, without a summary");
                        }
                        end.send_replace(Some(stop));
                    }
                }
            }
        });
        Ok(Self { received, ending, handlers })
    }

    /// While the returned guard lives, the first signal is the caller's to act on (see
    /// [`Signals::received`] and [`Signals::stopped`]) instead of ending the process.
    pub fn handle(&self) -> Handling {
        self.handlers.fetch_add(1, Ordering::SeqCst);
        Handling(self.handlers.clone())
    }

    /// Resolves when the command must end at once: at a first signal with nothing handling it,
    /// or at a second one. The command's runner then drops the command (see the module's
    /// documentation) and exits with the signal's code.
    pub async fn ended(&mut self) -> Stop {
        first_stop(&mut self.ending).await
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Stop> {
        *self.received.borrow()
    }

    /// Resolves at the first signal (at once if one was received already).
    pub async fn stopped(&mut self) -> Stop {
        first_stop(&mut self.received).await
    }
}

/// The stop `receiver` holds, once it holds one (at once if it does already); never, if its
/// sender is gone without one.
async fn first_stop(receiver: &mut watch::Receiver<Option<Stop>>) -> Stop {
    loop {
        if let Some(stop) = *receiver.borrow_and_update() {
            return stop;
        }
        if receiver.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Action {
    /// To the part of the command that stops cleanly.
    PassOn,
    /// End the command now (`second`: after a signal that was passed on).
    Exit { second: bool },
}

/// The first signal goes to the part of the command that handles signals, if one does; any
/// other ends the command at once.
fn on_signal(first: bool, handled: bool) -> Action {
    if first && handled { Action::PassOn } else { Action::Exit { second: !first } }
}

/// See [`Signals::handle`].
pub struct Handling(Arc<AtomicUsize>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_stops_cleanly_where_handled_and_a_second_one_ends_at_once() {
        assert_eq!(on_signal(true, true), Action::PassOn);
        assert_eq!(on_signal(false, true), Action::Exit { second: true });
        assert_eq!(on_signal(true, false), Action::Exit { second: false });
    }

    #[test]
    fn each_signal_has_the_shells_exit_code() {
        assert_eq!(Stop::Interrupt.code() as u8, 130);
        assert_eq!(Stop::Terminate.code() as u8, 143);
    }
}
