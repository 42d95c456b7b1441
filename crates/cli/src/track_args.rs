//! The flags of every command that tracks: how long, how (watch or poll), the verdict engine's
//! tolerances, and what to do on failure.

use std::time::Duration;

use rollwatch_tracker::{FeedMode, Goal, TrackOptions};

use crate::policy_args::PolicyArgs;
use crate::report::Recorded;
use crate::run::Session;

#[derive(clap::Args, Debug, Clone)]
pub struct TrackArgs {
    /// Give up after this long (e.g. 90s, 5m; 0 waits forever).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, help_heading = "Tracking")]
    pub timeout: Duration,
    /// Poll with a LIST per kind and namespace every DURATION (`--poll` alone: 2s) instead of
    /// watching.
    #[arg(
        long,
        value_name = "DURATION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "2s",
        value_parser = parse_interval,
        help_heading = "Tracking"
    )]
    pub poll: Option<Duration>,
    #[command(flatten)]
    pub tolerances: PolicyArgs,
    /// Stop at the first failure (the default).
    #[arg(long, overrides_with = "wait_all", help_heading = "Tracking")]
    pub fail_fast: bool,
    /// Wait for every object to be ready or failed before stopping.
    #[arg(long, overrides_with = "fail_fast", help_heading = "Tracking")]
    pub wait_all: bool,
    /// Log lines to show of each failing container.
    #[arg(long, value_name = "N", default_value_t = 20, help_heading = "Tracking")]
    pub logs_tail: u32,
    /// When the run ends (however it ends), write its timeline picture to FILE: one HTML file,
    /// a lane per pod, verdicts, restarts, warning events and the predicted waves.
    #[arg(long, value_name = "FILE.html", help_heading = "Tracking")]
    pub timeline: Option<std::path::PathBuf>,
}

impl TrackArgs {
    /// With `--timeline`, the session's reporter also records the run and draws it when the
    /// session ends. Called first thing in a command, so a command that fails early still
    /// leaves its picture.
    pub fn record(&self, mut session: Session) -> Session {
        if let Some(path) = &self.timeline {
            session.reporter = Box::new(Recorded::new(session.reporter, path.clone()));
        }
        session
    }

    pub fn options(&self, goal: Goal) -> TrackOptions {
        TrackOptions {
            policy: self.tolerances.policy(),
            mode: self.poll.map_or(FeedMode::Watch, FeedMode::Poll),
            goal,
            fail_fast: !self.wait_all,
            timeout: (!self.timeout.is_zero()).then_some(self.timeout),
            logs_tail: self.logs_tail,
            timeline: self.timeline.is_some(),
            ..TrackOptions::default()
        }
    }
}

/// The longest duration a flag takes: Go's, so kubectl's, about 292 years. Far beyond any wait,
/// and small enough that a deadline this far from now cannot overflow the clock.
pub const MAX_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);

/// Durations as kubectl takes them (`90s`, `5m`, `1h30m`), and a bare number as seconds; at
/// most [`MAX_DURATION`]. Every duration flag is read with it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text).map_err(|e| format!("invalid duration {text:?} ({e}); use e.g. 30s, 5m, 1h30m"))?,
    };
    if duration > MAX_DURATION {
        return Err(format!("duration {text:?} is out of range: at most about 292 years, as kubectl takes"));
    }
    Ok(duration)
}

/// [`parse_duration`], more than zero: an interval of zero would LIST without pause.
fn parse_interval(text: &str) -> Result<Duration, String> {
    parse_duration(text).and_then(|interval| if interval.is_zero() { Err(format!("interval {text:?} must be more than zero")) } else { Ok(interval) })
}

/// [`parse_duration`] for flags shown with humantime's defaults.
pub fn parse_humantime(text: &str) -> Result<humantime::Duration, String> {
    parse_duration(text).map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_kubectl_writes_them() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn durations_beyond_kubectls_range_are_refused() {
        assert_eq!(parse_duration("292y"), Ok(Duration::from_secs(292 * 31_557_600)));
        for huge in ["293y", "18446744073709551615", "100000000000y"] {
            let error = parse_duration(huge).unwrap_err();
            assert!(error.contains("out of range: at most about 292 years"), "{error}");
        }
    }
}
