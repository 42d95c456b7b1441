//! Plain lines with a timestamp, for CI logs: one per verdict change, then the summary.

use rollwatch_tracker::{Error, Outcome, Update};

use super::{Names, Note, Reporter, summary, timestamp};

pub struct Plain {
    names: Names,
}

impl Plain {
    pub fn new(names: Names) -> Self {
        Self { names }
    }
}

fn now() -> String {
    timestamp(jiff::Timestamp::now())
}

impl Reporter for Plain {
    fn note(&mut self, note: &Note) {
        let object = note.object.as_ref().map(|o| format!("{} ", self.names.of(o))).unwrap_or_default();
        println!("{} {object}{}", now(), note.message);
    }

    fn update(&mut self, update: &Update) {
        match update {
            Update::Verdict(change) => {
                let verdict = &change.verdict;
                println!("{} {} {}: {}", timestamp(change.at), self.names.of(&change.object), summary::state_word(verdict.state), verdict.message);
            }
            Update::Trouble { message, .. } => println!("{} warning: {message} (retrying)", now()),
        }
    }

    fn finish(&mut self, outcome: &Outcome, exit_code: u8) {
        for line in summary::lines(outcome, exit_code, &self.names) {
            println!("{line}");
        }
    }

    fn error(&mut self, error: &Error, exit_code: u8) {
        eprintln!("error: {error}");
        eprintln!("(exit code {exit_code})");
    }
}
