//! The compact text timeline of a terminal's end-of-run summary: one row per workload whose
//! rollout came in more than one wave, each wave a block as long as it took, on one time scale
//! for all rows, so the slow wave stands out:
//!
//! ```text
//! waves (each block one wave of updated pods becoming available, on one time scale):
//! deployment/slow █████▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█████  3 waves in 12s (model ~6s)
//! deployment/api  █████▒▒▒▒                     2 waves in 4s (model ~4s)
//! ```
//!
//! A wave ends each time the rollout's updated available pods (the duration model's count,
//! [`updated_available`]) grow; the first starts when tracking first saw the rollout
//! progressing. Read from the verdict changes every reporter gets, so it costs the tracker
//! nothing. Rows that do not fit the width are left out (and with them, when none fits, the
//! heading).

use std::collections::HashMap;
use std::time::Duration;

use rollwatch_tracker::VerdictChange;
use rollwatch_verdict::estimate::updated_available;
use rollwatch_verdict::{ObjectRef, State};

/// What a row needs of one workload.
#[derive(Debug)]
struct Rollout {
    object: ObjectRef,
    /// When tracking first saw it progressing.
    started: Duration,
    /// When each wave ended.
    ends: Vec<Duration>,
    /// The most updated available pods seen.
    available: u32,
    /// The updated pods last reported.
    updated: i64,
    /// The model's whole rollout, from the last pace reported.
    expected: Option<Duration>,
}

/// The waves of every rollout seen so far.
#[derive(Debug, Default)]
pub struct Waves {
    /// In the order first seen, the order of the rows.
    rollouts: Vec<Rollout>,
    /// Where each object's rollout is in `rollouts`: every verdict change looks it up, and a
    /// search of the list made a run's cost grow with workloads × changes (at 1,000 tracked
    /// Deployments, 3 % of rollwatch's CPU).
    index: HashMap<ObjectRef, usize>,
}

impl Waves {
    pub fn observe(&mut self, change: &VerdictChange) {
        let Some(progress) = &change.verdict.progress else { return };
        let available = updated_available(progress);
        let rollout = match self.index.get(&change.object) {
            Some(&index) => &mut self.rollouts[index],
            None if change.verdict.state == State::Progressing => {
                self.index.insert(change.object.clone(), self.rollouts.len());
                self.rollouts.push(Rollout {
                    object: change.object.clone(),
                    started: change.elapsed,
                    ends: Vec::new(),
                    available,
                    updated: progress.updated,
                    expected: None,
                });
                self.rollouts.last_mut().expect("just pushed")
            }
            None => return,
        };
        // Figures of the previous rollout (before the controller saw the new spec) give way to
        // the new one's: its updated pods start over from fewer.
        if progress.updated < rollout.updated {
            rollout.started = change.elapsed;
            rollout.ends.clear();
            rollout.available = available;
        }
        rollout.updated = progress.updated;
        // Only a new highest count ends a wave: the figure dips while old pods are scaled down.
        if available > rollout.available {
            rollout.ends.push(change.elapsed);
            rollout.available = available;
        }
        if let Some(pace) = change.pace {
            rollout.expected = Some(pace.expected_total);
        }
    }

    /// The rows that fit `width` columns, after a heading; empty when none has two waves or fits.
    pub fn lines(&self, width: usize, name: impl Fn(&ObjectRef) -> String) -> Vec<String> {
        let shown: Vec<(&Rollout, String, String)> = self
            .rollouts
            .iter()
            .filter(|r| r.ends.len() > 1)
            .map(|r| {
                let took = r.ends.last().copied().unwrap_or_default().saturating_sub(r.started);
                let model = r.expected.map(|e| format!(" (model {})", crate::report::approximately(e))).unwrap_or_default();
                (r, name(&r.object), format!("  {} waves in {}{model}", r.ends.len(), crate::report::short_duration(round(took))))
            })
            .collect();
        let names = shown.iter().map(|(_, name, _)| name.chars().count()).max().unwrap_or(0);
        let suffixes = shown.iter().map(|(_, _, suffix)| suffix.chars().count()).max().unwrap_or(0);
        let bar = width.saturating_sub(names + 1 + suffixes);
        let first = shown.iter().map(|(r, ..)| r.started).min().unwrap_or_default();
        let last = shown.iter().filter_map(|(r, ..)| r.ends.last().copied()).max().unwrap_or_default();
        let span = last.saturating_sub(first).as_secs_f64().max(f64::EPSILON);
        let column = |at: Duration| ((at.saturating_sub(first).as_secs_f64() / span) * bar as f64).round() as usize;
        let mut lines = Vec::new();
        for (rollout, name, suffix) in &shown {
            // Each wave at least one column, so every wave shows.
            if rollout.ends.len() > bar {
                continue;
            }
            let mut row = format!("{name:<names$} {}", " ".repeat(column(rollout.started)));
            let mut at = column(rollout.started);
            for (index, end) in rollout.ends.iter().enumerate() {
                let until = column(*end).max(at + 1);
                let block = if index % 2 == 0 { '█' } else { '▒' };
                row.extend(std::iter::repeat_n(block, until - at));
                at = until;
            }
            if at > bar {
                continue;
            }
            row.push_str(&" ".repeat(bar - at));
            row.push_str(suffix);
            lines.push(row.trim_end().to_string());
        }
        if !lines.is_empty() {
            lines.insert(0, "waves (each block one wave of updated pods becoming available, on one time scale):".to_string());
        }
        lines
    }
}

/// Whole seconds, for a row's total.
fn round(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs_f64().round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollwatch_verdict::{Progress, Verdict};

    fn change(name: &str, at: u64, state: State, available: i64) -> VerdictChange {
        updating(name, at, state, 3, available)
    }

    fn updating(name: &str, at: u64, state: State, updated: i64, available: i64) -> VerdictChange {
        let progress = Progress { desired: 3, updated, ready: available, available, old_pending_termination: 0 };
        VerdictChange {
            object: ObjectRef::in_group("apps", "Deployment", Some("shop".into()), name),
            verdict: Verdict::new(state, "rolling").with_progress(progress),
            previous: None,
            at: jiff::Timestamp::UNIX_EPOCH,
            elapsed: Duration::from_secs(at),
            pace: None,
        }
    }

    fn waves(changes: &[VerdictChange]) -> Waves {
        let mut waves = Waves::default();
        for change in changes {
            waves.observe(change);
        }
        waves
    }

    fn name(object: &ObjectRef) -> String {
        format!("deployment/{}", object.name)
    }

    #[test]
    fn each_wave_is_a_block_as_long_as_it_took_on_one_scale_for_all_rows() {
        let log = waves(&[
            change("slow", 0, State::Progressing, 0),
            change("api", 0, State::Progressing, 0),
            change("slow", 2, State::Progressing, 1),
            change("api", 2, State::Progressing, 1),
            change("api", 4, State::Progressing, 2),
            change("slow", 10, State::Progressing, 2),
            change("slow", 12, State::Ready, 3),
        ]);
        let lines = log.lines(60, name);
        assert_eq!(
            lines,
            [
                "waves (each block one wave of updated pods becoming available, on one time scale):",
                "deployment/slow █████▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒█████  3 waves in 12s",
                "deployment/api  █████▒▒▒▒                     2 waves in 4s",
            ]
        );
        assert!(lines.iter().skip(1).all(|line| line.chars().count() <= 60), "{lines:#?}");
    }

    #[test]
    fn a_rollout_in_one_wave_or_a_row_too_narrow_for_its_waves_is_left_out() {
        let once = waves(&[change("web", 0, State::Progressing, 0), change("web", 5, State::Ready, 3)]);
        assert!(once.lines(80, name).is_empty());
        let three = waves(&[
            change("web", 0, State::Progressing, 0),
            change("web", 1, State::Progressing, 1),
            change("web", 2, State::Progressing, 2),
            // A dip while an old pod is scaled down ends no wave.
            change("web", 2, State::Progressing, 1),
            change("web", 2, State::Progressing, 2),
            change("web", 3, State::Ready, 3),
        ]);
        assert_eq!(three.lines(80, name).len(), 2);
        assert!(three.lines(80, name)[1].ends_with("3 waves in 3s"), "{:?}", three.lines(80, name));
        assert!(three.lines(30, name).is_empty(), "{:?}", three.lines(30, name));
    }

    #[test]
    fn the_previous_rollouts_figures_before_the_new_spec_is_observed_count_for_nothing() {
        let update = waves(&[
            // All updated and available: the old generation's status, not yet the new one's.
            updating("web", 0, State::Progressing, 3, 3),
            updating("web", 1, State::Progressing, 1, 0),
            updating("web", 4, State::Progressing, 2, 1),
            updating("web", 7, State::Progressing, 3, 2),
            updating("web", 10, State::Ready, 3, 3),
        ]);
        let lines = update.lines(80, name);
        assert!(lines[1].ends_with("3 waves in 9s"), "{lines:?}");
    }
}
