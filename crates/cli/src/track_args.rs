//! The flags of every command that tracks: how long, how (watch or poll), the verdict engine's
//! tolerances, and what to do on failure.

use std::time::Duration;

use rollwatch_tracker::{FeedMode, Goal, TrackOptions};

use crate::policy_args::PolicyArgs;

#[derive(clap::Args, Debug, Clone)]
pub struct TrackArgs {
    /// Give up after this long (e.g. 90s, 5m; 0 waits forever).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Poll with a LIST per kind and namespace every INTERVAL instead of watching.
    #[arg(long, value_name = "INTERVAL", num_args = 0..=1, require_equals = true, default_missing_value = "2s", value_parser = parse_duration)]
    pub poll: Option<Duration>,
    #[command(flatten)]
    pub tolerances: PolicyArgs,
    /// Stop at the first failure (the default).
    #[arg(long, overrides_with = "wait_all")]
    pub fail_fast: bool,
    /// Wait for every object to be ready or failed before stopping.
    #[arg(long, overrides_with = "fail_fast")]
    pub wait_all: bool,
    /// Log lines to show of each failing container.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub logs_tail: u32,
}

impl TrackArgs {
    pub fn options(&self, goal: Goal) -> TrackOptions {
        TrackOptions {
            policy: self.tolerances.policy(),
            mode: self.poll.map_or(FeedMode::Watch, FeedMode::Poll),
            goal,
            fail_fast: !self.wait_all,
            timeout: (!self.timeout.is_zero()).then_some(self.timeout),
            logs_tail: self.logs_tail,
            ..TrackOptions::default()
        }
    }
}

/// Durations as kubectl takes them (`90s`, `5m`, `1h30m`), and a bare number as seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| format!("invalid duration {text:?} ({e}); use e.g. 30s, 5m, 1h30m"))
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
}
