//! Plain lines with a timestamp, for CI logs: one per verdict change (with the expected remaining
//! time while a rollout progresses, or the settle window's), a note when a rollout falls far behind the duration model,
//! then the summary.

use std::collections::{HashMap, HashSet};

use rollwatch_tracker::{Outcome, Update};
use rollwatch_verdict::{ObjectRef, State, Verdict};

use super::{Names, Note, Reporter, expected_more, settling_left, slower_note, summary, timestamp};
use crate::sanitize::inline;
use crate::timeline::text::Waves;

/// The width the summary's text timeline fits in a CI log, which has none of its own.
const LOG_WIDTH: usize = 100;

pub struct Plain {
    names: Names,
    /// The last line printed per object: a change that reads the same is not printed again.
    last: HashMap<ObjectRef, String>,
    /// Objects whose rollout was last reported slower than expected: the note comes once.
    behind: HashSet<ObjectRef>,
    waves: Waves,
}

impl Plain {
    pub fn new(names: Names) -> Self {
        Self { names, last: HashMap::new(), behind: HashSet::new(), waves: Waves::default() }
    }
}

/// `Progressing: <message>`, and while progressing the first trouble still within tolerance.
fn describe(verdict: &Verdict) -> String {
    let mut line = format!("{}: {}", summary::state_word(verdict.state), inline(&verdict.message));
    if verdict.state == State::Progressing
        && let Some(pending) = verdict.reasons.first()
    {
        let container = pending.container.as_deref().map(|c| format!(" ({})", inline(c))).unwrap_or_default();
        line.push_str(&format!(" [so far tolerated: {}{container}: {}]", inline(&pending.object.to_string()), inline(pending.code.as_str())));
    }
    line
}

fn now() -> String {
    timestamp(jiff::Timestamp::now())
}

impl Reporter for Plain {
    fn note(&mut self, note: &Note) {
        let object = note.object.as_ref().map(|o| format!("{} ", self.names.of(o))).unwrap_or_default();
        println!("{} {object}{}", now(), inline(&note.message));
    }

    fn update(&mut self, update: &Update) {
        match update {
            Update::Verdict(change) => {
                self.waves.observe(change);
                let name = self.names.of(&change.object);
                let line = describe(&change.verdict);
                if self.last.get(&change.object) != Some(&line) {
                    // The countdown is not part of the line compared: it changes by itself.
                    let more = settling_left(&change.verdict, change.at).or_else(|| change.pace.as_ref().and_then(expected_more));
                    let more = more.map(|more| format!(" ({more})")).unwrap_or_default();
                    println!("{} {name} {line}{more}", timestamp(change.at));
                    self.last.insert(change.object.clone(), line);
                }
                match change.pace.filter(|pace| pace.slower_than_expected()) {
                    Some(pace) if self.behind.insert(change.object.clone()) => {
                        println!("{} {name} {}", timestamp(change.at), slower_note(&pace));
                    }
                    Some(_) => {}
                    None => {
                        self.behind.remove(&change.object);
                    }
                }
            }
            Update::Trouble { message, .. } => println!("{} warning: {} (retrying)", now(), inline(message)),
            Update::Note { message } => println!("{} note: {}", now(), inline(message)),
            _ => {}
        }
    }

    fn finish(&mut self, outcome: &Outcome, exit_code: u8) {
        let waves = self.waves.lines(LOG_WIDTH, |object| self.names.of(object));
        for line in summary::with_waves(summary::lines(outcome, exit_code, &self.names), waves) {
            println!("{line}");
        }
    }
}
