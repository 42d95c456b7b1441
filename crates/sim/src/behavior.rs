//! How a simulated container behaves, chosen per pod by annotation.
//!
//! `sim.rollwatch.dev/behavior` applies to every container of the pod;
//! `sim.rollwatch.dev/behavior.NAME` overrides it for container `NAME`
//! (init containers included). The value is `KIND [key=value ...]`:
//!
//! | kind | what the container does |
//! |---|---|
//! | `ready` (default) | starts and becomes Ready as its probes allow |
//! | `pull-fail` | its image cannot be pulled: `ErrImagePull`, then `ImagePullBackOff` |
//! | `crash exit=C after=T` | runs `T`, exits with code `C`, restarts with `CrashLoopBackOff` back-off |
//! | `oom after=T` | runs `T`, is killed with exit code 137, reason `OOMKilled` |
//! | `never-ready` | runs, but its readiness probe never passes |
//! | `liveness-fail after=T` | after `T` its liveness probe fails and the kubelet restarts it |
//! | `exit code=C after=T` | runs `T` and exits with `C` (0 completes; for Jobs) |
//!
//! Options on any kind: `pull=T` (image pull time, default 300ms),
//! `backoff=T` (first restart back-off, default the simulator's
//! `--crash-backoff-base`), `term=T` (time to stop on SIGTERM, default 0),
//! `log="text"` (a log line the container prints at start).
//! An image whose name contains `does-not-exist` always fails to pull, so
//! `kubectl set image ... app=nginx:does-not-exist` fails as it would for real.

use std::time::Duration;

pub const ANNOTATION: &str = "sim.rollwatch.dev/behavior";

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Ready,
    PullFail,
    Crash { exit: i32, after: Duration },
    Oom { after: Duration },
    NeverReady,
    LivenessFail { after: Duration },
    Exit { code: i32, after: Duration },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub kind: Kind,
    pub pull: Duration,
    pub backoff: Option<Duration>,
    pub term: Duration,
    pub log: Option<String>,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior { kind: Kind::Ready, pull: Duration::from_millis(300), backoff: None, term: Duration::ZERO, log: None }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SpecError {
    #[error("unknown behaviour kind '{0}' (ready, pull-fail, crash, oom, never-ready, liveness-fail, exit)")]
    UnknownKind(String),
    #[error("option '{0}' is not KEY=VALUE")]
    NotKeyValue(String),
    #[error("unknown option '{0}'")]
    UnknownOption(String),
    #[error("'{key}': {value:?} is not {expected}")]
    BadValue { key: String, value: String, expected: &'static str },
    #[error("unterminated quote")]
    UnterminatedQuote,
}

impl Behavior {
    /// The behaviour of `container` given the pod's annotations.
    pub fn for_container(annotations: &std::collections::BTreeMap<String, String>, container: &str) -> Result<Behavior, SpecError> {
        let specific = annotations.get(&format!("{ANNOTATION}.{container}"));
        match specific.or_else(|| annotations.get(ANNOTATION)) {
            Some(spec) => spec.parse(),
            None => Ok(Behavior::default()),
        }
    }
}

impl std::str::FromStr for Behavior {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let words = split_words(spec)?;
        let mut words = words.into_iter();
        let kind_word = words.next().unwrap_or_else(|| "ready".to_owned());
        let mut options = std::collections::BTreeMap::new();
        for word in words {
            let (key, value) = word.split_once('=').ok_or_else(|| SpecError::NotKeyValue(word.clone()))?;
            options.insert(key.to_owned(), value.to_owned());
        }
        let duration = |key: &str, default: Duration| -> Result<Duration, SpecError> {
            options.get(key).map_or(Ok(default), |v| {
                humantime::parse_duration(v).map_err(|_| SpecError::BadValue { key: key.into(), value: v.clone(), expected: "a duration like 2s" })
            })
        };
        let code = |key: &str, default: i32| -> Result<i32, SpecError> {
            options.get(key).map_or(Ok(default), |v| v.parse().map_err(|_| SpecError::BadValue { key: key.into(), value: v.clone(), expected: "an exit code" }))
        };
        let after = duration("after", Duration::from_secs(2))?;
        let (kind, allowed): (Kind, &[&str]) = match kind_word.as_str() {
            "ready" => (Kind::Ready, &[]),
            "pull-fail" => (Kind::PullFail, &[]),
            "crash" => (Kind::Crash { exit: code("exit", 1)?, after }, &["exit", "after"]),
            "oom" => (Kind::Oom { after }, &["after"]),
            "never-ready" => (Kind::NeverReady, &[]),
            "liveness-fail" => (Kind::LivenessFail { after }, &["after"]),
            "exit" => (Kind::Exit { code: code("code", 0)?, after }, &["code", "after"]),
            other => return Err(SpecError::UnknownKind(other.to_owned())),
        };
        const COMMON: [&str; 4] = ["pull", "backoff", "term", "log"];
        if let Some(unknown) = options.keys().find(|k| !allowed.contains(&k.as_str()) && !COMMON.contains(&k.as_str())) {
            return Err(SpecError::UnknownOption(unknown.clone()));
        }
        Ok(Behavior {
            kind,
            pull: duration("pull", Duration::from_millis(300))?,
            backoff: options.contains_key("backoff").then(|| duration("backoff", Duration::ZERO)).transpose()?,
            term: duration("term", Duration::ZERO)?,
            log: options.get("log").cloned(),
        })
    }
}

/// Splits on whitespace, keeping `key="quoted text"` together.
fn split_words(spec: &str) -> Result<Vec<String>, SpecError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in spec.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(SpecError::UnterminatedQuote);
    }
    if !current.is_empty() {
        words.push(current);
    }
    Ok(words)
}

/// Why an image reference cannot be pulled, in the kubelet's words; `None` if it can.
pub fn pull_failure(image: &str) -> Option<(&'static str, String)> {
    let valid =
        !image.is_empty() && image == image.trim() && !image.contains(char::is_uppercase) && !image.ends_with(':') && !image.starts_with([':', '/', '@']);
    if !valid {
        return Some((
            "InvalidImageName",
            format!("Failed to apply default image tag \"{image}\": couldn't parse image reference \"{image}\": invalid reference format"),
        ));
    }
    image.contains("does-not-exist").then(|| ("ErrImagePull", not_found_message(image)))
}

/// The container runtime's answer when a registry does not have `image`.
pub fn not_found_message(image: &str) -> String {
    format!("rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found")
}

/// The kubelet's restart back-off: `base`, doubling per restart, capped at 5 minutes.
pub fn backoff(base: Duration, restarts: u32) -> Duration {
    const CAP: Duration = Duration::from_secs(300);
    base.saturating_mul(1u32.checked_shl(restarts.min(31)).unwrap_or(u32::MAX)).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_with_options() {
        let b: Behavior = r#"crash exit=3 after=1s backoff=500ms log="boom now""#.parse().unwrap();
        assert_eq!(b.kind, Kind::Crash { exit: 3, after: Duration::from_secs(1) });
        assert_eq!(b.backoff, Some(Duration::from_millis(500)));
        assert_eq!(b.log.as_deref(), Some("boom now"));
        assert_eq!("oom after=4s".parse::<Behavior>().unwrap().kind, Kind::Oom { after: Duration::from_secs(4) });
        assert_eq!("exit code=0 after=1s".parse::<Behavior>().unwrap().kind, Kind::Exit { code: 0, after: Duration::from_secs(1) });
        assert_eq!("never-ready".parse::<Behavior>().unwrap().kind, Kind::NeverReady);
        assert_eq!("pull-fail".parse::<Behavior>().unwrap().kind, Kind::PullFail);
        assert_eq!("ready pull=3s".parse::<Behavior>().unwrap().pull, Duration::from_secs(3));
        assert_eq!("".parse::<Behavior>().unwrap(), Behavior::default());
    }

    #[test]
    fn rejects_bad_specs() {
        assert_eq!("explode".parse::<Behavior>(), Err(SpecError::UnknownKind("explode".into())));
        assert_eq!("crash code=1".parse::<Behavior>(), Err(SpecError::UnknownOption("code".into())));
        assert!(matches!("crash exit=x".parse::<Behavior>(), Err(SpecError::BadValue { .. })));
        assert_eq!("ready log=\"x".parse::<Behavior>(), Err(SpecError::UnterminatedQuote));
        assert_eq!("ready pull".parse::<Behavior>(), Err(SpecError::NotKeyValue("pull".into())));
    }

    #[test]
    fn container_annotation_overrides_pod_annotation() {
        let annotations =
            [(ANNOTATION.to_owned(), "never-ready".to_owned()), (format!("{ANNOTATION}.init"), "exit code=0 after=1s".to_owned())].into_iter().collect();
        assert_eq!(Behavior::for_container(&annotations, "app").unwrap().kind, Kind::NeverReady);
        assert!(matches!(Behavior::for_container(&annotations, "init").unwrap().kind, Kind::Exit { code: 0, .. }));
    }

    #[test]
    fn images_that_cannot_be_pulled() {
        assert_eq!(pull_failure("nginx:1.19"), None);
        assert_eq!(pull_failure("nginx:does-not-exist").map(|f| f.0), Some("ErrImagePull"));
        assert_eq!(pull_failure("Nginx:UPPER").map(|f| f.0), Some("InvalidImageName"));
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let base = Duration::from_secs(10);
        let seq: Vec<u64> = (0..7).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(seq, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(base, 1000).as_secs(), 300);
    }
}
