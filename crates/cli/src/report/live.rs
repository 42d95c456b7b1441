//! Live progress on a terminal: a line per object with its state and reason code, replica
//! figures, time since start and since its last change, and while a rollout progresses the time
//! the duration model expects it still needs (counted down locally from the last update's pace)
//! or the time left in its settle window; once the run ends, the lines give way to a table of the
//! results and the explanations.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rollwatch_tracker::{Outcome, Update};
use rollwatch_verdict::estimate::Pace;
use rollwatch_verdict::{ObjectRef, State, Verdict};

use super::{Names, Note, Reporter, approximately, settling_left, short_duration, summary};
use crate::sanitize::inline;
use crate::timeline::text::Waves;

struct Line {
    bar: ProgressBar,
    verdict: Verdict,
    changed: Instant,
    /// The rollout's pace as of `updated`.
    pace: Option<Pace>,
    updated: Instant,
}

pub struct Live {
    names: Names,
    multi: MultiProgress,
    lines: HashMap<ObjectRef, Line>,
    started: Instant,
    waves: Waves,
}

impl Live {
    pub fn new(names: Names) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        Self { names, multi, lines: HashMap::new(), started: Instant::now(), waves: Waves::default() }
    }

    fn render(line: &Line, started: Instant) -> String {
        let verdict = &line.verdict;
        let figures =
            verdict.progress.map(|p| format!(" {}/{} updated, {} ready, {} available", p.updated, p.desired, p.ready, p.available)).unwrap_or_default();
        let settling = settling_left(verdict, jiff::Timestamp::now()).map(|left| format!(", {left}")).unwrap_or_default();
        // The short figures first: on a narrow terminal the message's tail is what gets cut.
        let pace = line
            .pace
            .map(|pace| pace.after(line.updated.elapsed()))
            .map(|pace| {
                let left = pace.remaining();
                let left = if left.is_zero() { String::new() } else { format!(", {} left", approximately(left)) };
                if pace.slower_than_expected() { format!("{left}, slower than expected") } else { left }
            })
            .unwrap_or_default();
        // The reason code next: an 80-column terminal cuts the line's end, not the why.
        let code =
            verdict.reasons.first().filter(|_| verdict.state != State::Ready).map(|reason| format!(" {}", inline(reason.code.as_str()))).unwrap_or_default();
        format!(
            "{:<11}{code}{figures}{settling}{pace} [{}, changed {} ago] {}",
            summary::state_word(verdict.state),
            short_duration(started.elapsed()),
            short_duration(line.changed.elapsed()),
            inline(&verdict.message),
        )
    }

    fn spinner(&self, object: &ObjectRef) -> ProgressBar {
        let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}").unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = self.multi.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(self.names.of(object));
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

impl Reporter for Live {
    fn note(&mut self, note: &Note) {
        let object = note.object.as_ref().map(|o| format!("{} ", self.names.of(o))).unwrap_or_default();
        let _ = self.multi.println(format!("{object}{}", inline(&note.message)));
    }

    fn update(&mut self, update: &Update) {
        match update {
            Update::Verdict(change) => {
                self.waves.observe(change);
                let now = Instant::now();
                let (bar, changed) = match self.lines.remove(&change.object) {
                    // A pace-only update (fell behind the model) is not a change of the verdict.
                    Some(line) if line.verdict == change.verdict => (line.bar, line.changed),
                    Some(line) => (line.bar, now),
                    None => (self.spinner(&change.object), now),
                };
                let line = Line { bar, verdict: change.verdict.clone(), changed, pace: change.pace, updated: now };
                line.bar.set_message(Self::render(&line, self.started));
                self.lines.insert(change.object.clone(), line);
            }
            Update::Trouble { message, .. } => {
                let _ = self.multi.println(format!("warning: {} (retrying)", inline(message)));
            }
            Update::Note { message } => {
                let _ = self.multi.println(format!("note: {}", inline(message)));
            }
            _ => {}
        }
    }

    fn tick(&mut self) {
        for line in self.lines.values() {
            line.bar.set_message(Self::render(line, self.started));
        }
    }

    fn finish(&mut self, outcome: &Outcome, exit_code: u8) {
        // The live lines give way to the table, which says the same once and in full.
        for line in self.lines.values() {
            line.bar.finish_and_clear();
        }
        let width = console::Term::stdout().size_checked().map_or(80, |(_, columns)| usize::from(columns));
        let waves = self.waves.lines(width, |object| self.names.of(object));
        for text in summary::with_waves(summary::table_lines(outcome, exit_code, &self.names), waves) {
            println!("{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollwatch_verdict::{Progress, Reason};

    #[test]
    fn on_an_80_column_terminal_the_reason_code_is_within_the_line() {
        let message = "container app exited with code 3: Error (restarted 0 times); its pod had been ready for less than the 10s settle window";
        let pod = "pod/checkout-service-57f8dbd8c-pzq9d".parse().unwrap();
        let verdict = Verdict::new(State::Failed, format!("deployment \"checkout-service\" failed: {message}"))
            .with_reasons(vec![Reason::new("NonZeroExit", pod, message)])
            .with_progress(Progress { desired: 12, updated: 12, ready: 11, available: 11, ..Progress::default() });
        let now = Instant::now();
        let line = Line { bar: ProgressBar::hidden(), verdict, changed: now, pace: None, updated: now };
        // As indicatif draws it: spinner, the object, then the message cut at the terminal's width.
        let drawn = format!("⠁ deployment/checkout-service {}", Live::render(&line, now));
        let visible: String = drawn.chars().take(80).collect();
        assert!(visible.contains("Failed      NonZeroExit"), "{visible}");
    }
}
