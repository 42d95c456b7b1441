//! `--timeline FILE.html`: a reporter that shows the run as the chosen one does and records it
//! as the JSON lines `-o json` would print, then draws them into FILE when the run ends —
//! however it ends: at the summary, or when the command stops before one (an error, a failed
//! apply, a signal that ends it at once: see `signals`), with what was recorded by then. Recording the JSON lines, not the updates, keeps one
//! path from a run to its picture: `rollwatch timeline` reads the same lines from a file.

use std::path::PathBuf;

use rollwatch_tracker::{Outcome, Update};
use serde_json::Value;

use super::{Note, Reporter, json};
use crate::sanitize::inline;
use crate::timeline;

pub struct Recorded {
    shown: Box<dyn Reporter>,
    lines: Vec<Value>,
    path: PathBuf,
    written: bool,
}

impl Recorded {
    pub fn new(shown: Box<dyn Reporter>, path: PathBuf) -> Self {
        Self { shown, lines: Vec::new(), path, written: false }
    }

    fn write(&mut self) {
        self.written = true;
        let path = self.path.display().to_string();
        let run = match timeline::Run::from_lines(&self.lines) {
            Ok(run) => run,
            // Lines this build wrote itself always read back; say so if one did not.
            Err(error) => {
                eprintln!("error: timeline {} not written: its line {}: {}", inline(&path), error.line, inline(&error.message));
                return;
            }
        };
        match std::fs::write(&self.path, timeline::html::render(&run)) {
            Ok(()) => eprintln!("timeline written to {}", inline(&path)),
            Err(error) => eprintln!("error: cannot write the timeline {}: {}", inline(&path), inline(&error.to_string())),
        }
    }
}

impl Reporter for Recorded {
    fn note(&mut self, note: &Note) {
        self.lines.push(json::note_line(note));
        self.shown.note(note);
    }

    fn update(&mut self, update: &Update) {
        self.lines.extend(json::update_line(update));
        self.shown.update(update);
    }

    fn tick(&mut self) {
        self.shown.tick();
    }

    fn finish(&mut self, outcome: &Outcome, exit_code: u8) {
        self.lines.push(json::summary_line(outcome, exit_code));
        self.shown.finish(outcome, exit_code);
        self.write();
    }

    fn wants_timeline(&self) -> bool {
        true
    }
}

impl Drop for Recorded {
    /// A command that stopped before its summary still leaves the picture of what happened.
    fn drop(&mut self) {
        if !self.written {
            self.write();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::names::NameList;

    #[test]
    fn a_command_that_stops_before_its_summary_still_leaves_its_picture() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stopped.html");
        let mut recorded = Recorded::new(Box::new(NameList::default()), path.clone());
        assert!(recorded.wants_timeline(), "the tracker is asked for pods and events");
        recorded.note(&Note { event: "dry_run", object: None, message: "server dry run passed for 1 objects".into() });
        drop(recorded);
        let page = std::fs::read_to_string(&path).expect("written when dropped");
        assert!(page.contains("result: unfinished"), "{page}");
    }
}
