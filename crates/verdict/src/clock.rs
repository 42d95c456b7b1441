//! The time a verdict is judged at, and when it would change by time alone.
//!
//! Every rule that reads the time asks through a [`Clock`], which notes the instant its answer
//! would turn (a grace period running out, a settle window filling up, a deadline passing). The
//! earliest of them is the verdict's [`changes_at`](crate::Verdict::changes_at): a tracker need
//! not judge the object again before then unless the objects change, so objects that wait cost
//! nothing.

use std::cell::Cell;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// `now`, and the earliest later instant at which a time rule asked so far would answer otherwise.
pub(crate) struct Clock {
    now: Timestamp,
    next_change: Cell<Option<Timestamp>>,
}

impl Clock {
    pub(crate) fn new(now: Timestamp) -> Self {
        Self { now, next_change: Cell::new(None) }
    }

    /// Whether `at` has come; if not, `at` is an instant the verdict may change at.
    pub(crate) fn reached(&self, at: Timestamp) -> bool {
        if at <= self.now {
            return true;
        }
        let next = self.next_change.get().map_or(at, |next| next.min(at));
        self.next_change.set(Some(next));
        false
    }

    /// Whether `limit` has passed since `since` (a limit beyond the calendar never passes).
    pub(crate) fn lasted(&self, since: Timestamp, limit: Duration) -> bool {
        let end = SignedDuration::try_from(limit).ok().and_then(|limit| since.checked_add(limit).ok());
        end.is_some_and(|end| self.reached(end))
    }

    /// The earliest instant a rule asked so far would answer otherwise; `None` when no answer
    /// depends on time passing.
    pub(crate) fn next_change(&self) -> Option<Timestamp> {
        self.next_change.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn the_earliest_instant_not_yet_reached_is_the_next_change() {
        let clock = Clock::new(at(100));
        assert!(clock.reached(at(100)) && clock.reached(at(50)));
        assert_eq!(clock.next_change(), None, "instants reached change nothing later");
        assert!(!clock.reached(at(130)));
        assert!(!clock.lasted(at(90), Duration::from_secs(20)));
        assert!(!clock.reached(at(200)));
        assert_eq!(clock.next_change(), Some(at(110)));
    }

    #[test]
    fn a_limit_is_lasted_from_its_end_on_and_one_beyond_the_calendar_never() {
        let limit = Duration::from_secs(30);
        assert!(!Clock::new(at(129) + SignedDuration::from_nanos(999_999_999)).lasted(at(100), limit));
        assert!(Clock::new(at(130)).lasted(at(100), limit));
        let clock = Clock::new(at(130));
        assert!(!clock.lasted(at(100), Duration::MAX));
        assert!(!clock.lasted(Timestamp::MAX, limit));
        assert_eq!(clock.next_change(), None, "an end that never comes is no change");
    }
}
