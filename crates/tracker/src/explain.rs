//! Explaining a verdict that is not Ready: the reasons, the last warning events about the object
//! and its family, and the last log lines of the containers that failed.
//!
//! The events come from the tracker's snapshot; the pods' state and logs are fetched, each fetch
//! within [`FETCH_TIMEOUT`] and the run's `--timeout`: what could not be fetched in time is said
//! (`unavailable`), so an explanation never holds a run past its deadline.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use futures::AsyncReadExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use rollwatch_verdict::api::Event;
use rollwatch_verdict::registry;
use rollwatch_verdict::{ObjectRef, Reason, Snapshot, Verdict};
use serde::Serialize;
use tokio::time::Instant;

use crate::error::describe;
use crate::retry::retrying;

/// Why an object is not ready, with what the cluster has to say about it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The verdict's reasons, each with the failing container's last log lines where that helps.
    pub details: Vec<Detail>,
    /// The last warning events about the object and the objects it owns, oldest first.
    pub events: Vec<EventNote>,
}

/// One reason of a verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub reason: Reason,
    /// For a reason about a container: how it last ended and how often it restarted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerState>,
    /// Why the pod's current state could not be fetched (no answer in time, the timeout passed),
    /// when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_unavailable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<ContainerLogs>,
}

/// What the pod's status says about one container, as the explanation was made.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerState {
    pub restarts: i32,
    /// The container's last termination (the current one if it is terminated, else the one
    /// before its last restart): the exit code and reason (`OOMKilled`, `Error`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_termination: Option<Termination>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Termination {
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

/// The tail of a container's log.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerLogs {
    pub pod: String,
    pub container: String,
    /// From the previous (crashed) instance of the container rather than the current one.
    pub previous: bool,
    pub lines: Vec<String>,
    /// The log reached [`LOG_LIMIT_BYTES`]: the newest of the tail's lines may be missing and the
    /// last one shown may be cut.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut_at_byte_limit: bool,
    /// Why no lines could be fetched, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// A warning event, condensed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventNote {
    pub object: ObjectRef,
    pub reason: String,
    pub message: String,
    pub count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
}

/// At most this many pods and containers looked into per object: the first failures tell the story.
const MAX_LOGGED_CONTAINERS: usize = 3;
/// At most this many warning events per object.
const MAX_EVENTS: usize = 8;
/// How long one fetch (a pod, a log) may take: an explanation is worth a few seconds, not a hang.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Why a fetch was not made, or given up: the run's deadline came first.
const PAST_DEADLINE: &str = "not fetched: the timeout passed";
/// At most this many bytes of a log are fetched, besides the last `--logs-tail` lines: a container
/// writes lines of any length, and the explanation holds them in memory (up to
/// [`MAX_LOGGED_CONTAINERS`] per object). The API server cuts the tail after this many bytes.
pub const LOG_LIMIT_BYTES: usize = 256 * 1024;

/// Explains `verdict` for `object` from the snapshot's events, fetching the logs of failed
/// containers (`logs_tail` lines; none when zero); no fetch goes on past `deadline`.
pub(crate) async fn explain(
    client: &kube::Client,
    snapshot: &Snapshot,
    object: &ObjectRef,
    verdict: &Verdict,
    logs_tail: u32,
    deadline: Option<Instant>,
) -> Explanation {
    let mut details = Vec::new();
    let mut logged = BTreeSet::new();
    let mut pods: HashMap<ObjectRef, Result<Option<Pod>, String>> = HashMap::new();
    for reason in &verdict.reasons {
        let (container, container_unavailable) = match (&reason.container, &reason.object.namespace) {
            (Some(container), Some(namespace)) if reason.object.is(&registry::POD) => {
                if !pods.contains_key(&reason.object) && pods.len() < MAX_LOGGED_CONTAINERS {
                    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
                    let fetched = within(deadline, retrying(|| pods_api.get_opt(&reason.object.name))).await;
                    pods.insert(reason.object.clone(), fetched);
                }
                match pods.get(&reason.object) {
                    Some(Ok(pod)) => (pod.as_ref().and_then(|pod| container_state(pod, container)), None),
                    Some(Err(why)) => (None, Some(why.clone())),
                    None => (None, None),
                }
            }
            _ => (None, None),
        };
        // Which codes a log explains is the code's to say (ReasonCode), not a list kept here.
        let wants_logs = logs_tail > 0 && reason.object.is(&registry::POD) && reason.code.explained_by_logs() && logged.len() < MAX_LOGGED_CONTAINERS;
        let logs = match (&reason.container, &reason.object.namespace) {
            (Some(container), Some(namespace)) if wants_logs && logged.insert((reason.object.name.clone(), container.clone())) => {
                let previous_first = reason.code.failed_in_previous_instance();
                Some(container_logs(client, namespace, &reason.object.name, container, previous_first, logs_tail, deadline).await)
            }
            _ => None,
        };
        details.push(Detail { reason: reason.clone(), container, container_unavailable, logs });
    }
    Explanation { details, events: warning_events(snapshot, object, verdict) }
}

/// The last warnings about the object, its family and the objects its reasons name.
fn warning_events(snapshot: &Snapshot, object: &ObjectRef, verdict: &Verdict) -> Vec<EventNote> {
    let mut about: Vec<ObjectRef> = snapshot.family(object);
    about.extend(verdict.reasons.iter().map(|r| r.object.clone()));
    about.sort();
    about.dedup();
    let mut notes: Vec<EventNote> =
        about.iter().flat_map(|target| snapshot.events_about(target).filter(|e| e.type_.as_deref() == Some("Warning")).map(|e| note(target, e))).collect();
    notes.sort_by_key(|n| n.last_seen);
    notes.dedup_by(|a, b| a.object == b.object && a.reason == b.reason && a.message == b.message);
    let skip = notes.len().saturating_sub(MAX_EVENTS);
    notes.split_off(skip)
}

fn note(object: &ObjectRef, event: &Event) -> EventNote {
    let last_seen =
        event.last_timestamp.as_ref().map(|t| t.0).or_else(|| event.event_time.as_ref().map(|t| t.0)).or_else(|| event.first_timestamp.as_ref().map(|t| t.0));
    EventNote {
        object: object.clone(),
        reason: event.reason.clone().unwrap_or_default(),
        message: event.message.clone().unwrap_or_default().trim_end().to_string(),
        count: event.count.unwrap_or(1),
        last_seen,
    }
}

/// The last lines of a container's log; of its previous instance first when that is the one
/// that failed, falling back to the current one (a Job's container that exited is current).
async fn container_logs(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    container: &str,
    previous_first: bool,
    tail: u32,
    deadline: Option<Instant>,
) -> ContainerLogs {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let attempts: &[bool] = if previous_first { &[true, false] } else { &[false] };
    let mut problem = String::new();
    for &previous in attempts {
        let params = log_params(container, previous, tail);
        match within(deadline, retrying(|| read_log(&pods, pod, &params))).await {
            Ok(bytes) => {
                let (lines, cut_at_byte_limit) = log_lines(&bytes);
                return ContainerLogs { pod: pod.into(), container: container.into(), previous, lines, cut_at_byte_limit, unavailable: None };
            }
            Err(why) => problem = why,
        }
    }
    ContainerLogs { pod: pod.into(), container: container.into(), previous: false, lines: Vec::new(), cut_at_byte_limit: false, unavailable: Some(problem) }
}

/// A log as the API server sends it, read up to [`LOG_LIMIT_BYTES`] whether or not the server
/// (or a kubelet) honours `limitBytes`.
async fn read_log(pods: &Api<Pod>, pod: &str, params: &LogParams) -> Result<Vec<u8>, kube::Error> {
    let stream = pods.log_stream(pod, params).await?;
    let mut bytes = Vec::new();
    Box::pin(stream).take(LOG_LIMIT_BYTES as u64).read_to_end(&mut bytes).await.map_err(kube::Error::ReadEvents)?;
    Ok(bytes)
}

/// The log's lines, and whether it reached the byte limit. Decoded leniently: a container may
/// write any bytes, and the limit can cut a character in two (kube's `logs` fails on both).
fn log_lines(bytes: &[u8]) -> (Vec<String>, bool) {
    let lines = String::from_utf8_lossy(bytes).lines().map(str::to_string).collect();
    (lines, bytes.len() >= LOG_LIMIT_BYTES)
}

/// The last `tail` lines of a container instance's log, at most [`LOG_LIMIT_BYTES`] of them.
fn log_params(container: &str, previous: bool, tail: u32) -> LogParams {
    LogParams {
        container: Some(container.to_string()),
        previous,
        tail_lines: Some(i64::from(tail)),
        limit_bytes: i64::try_from(LOG_LIMIT_BYTES).ok(),
        ..Default::default()
    }
}

/// Runs one fetch within [`FETCH_TIMEOUT`] and `deadline`; why it gave nothing, if so. Past the
/// deadline nothing is asked.
async fn within<T>(deadline: Option<Instant>, fetch: impl Future<Output = Result<T, kube::Error>>) -> Result<T, String> {
    let own_limit = Instant::now() + FETCH_TIMEOUT;
    let (until, deadline_first) = match deadline {
        Some(deadline) if deadline <= own_limit => (deadline, true),
        _ => (own_limit, false),
    };
    if deadline_first && until <= Instant::now() {
        return Err(PAST_DEADLINE.to_string());
    }
    match tokio::time::timeout_at(until, fetch).await {
        Ok(Ok(fetched)) => Ok(fetched),
        Ok(Err(error)) => Err(describe(&error)),
        Err(_) if deadline_first => Err(PAST_DEADLINE.to_string()),
        Err(_) => Err(format!("no answer within {}s", FETCH_TIMEOUT.as_secs())),
    }
}

fn container_state(pod: &Pod, container: &str) -> Option<ContainerState> {
    let status = pod.status.as_ref()?;
    let all = status.init_container_statuses.iter().flatten().chain(status.container_statuses.iter().flatten());
    let found = all.into_iter().find(|s| s.name == container)?;
    let current = found.state.as_ref().and_then(|s| s.terminated.as_ref());
    let previous = found.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let last_termination = current.or(previous).map(|t| Termination {
        exit_code: t.exit_code,
        reason: t.reason.clone(),
        message: t.message.clone(),
        finished_at: t.finished_at.as_ref().map(|f| f.0),
    });
    Some(ContainerState { restarts: found.restart_count, last_termination })
}

#[cfg(test)]
mod tests {
    use super::{LOG_LIMIT_BYTES, log_lines, log_params};

    #[test]
    fn log_requests_ask_for_the_tail_within_a_byte_limit() {
        let params = log_params("app", true, 20);
        assert_eq!((params.container.as_deref(), params.previous, params.tail_lines), (Some("app"), true, Some(20)));
        assert_eq!(params.limit_bytes, Some(LOG_LIMIT_BYTES as i64));
    }

    #[test]
    fn any_bytes_a_container_logs_are_read_and_a_cut_at_the_limit_is_told() {
        let (lines, cut) = log_lines(b"started\n\xff\xfe binary\r\nlast");
        assert_eq!((lines, cut), (vec!["started".to_string(), "\u{fffd}\u{fffd} binary".to_string(), "last".to_string()], false));
        // The limit cuts a two-byte character in half: the lines before it are kept.
        let mut at_limit = "x\n".repeat(LOG_LIMIT_BYTES / 2 - 1).into_bytes();
        at_limit.extend_from_slice(&"é".as_bytes()[..1]);
        at_limit.push(b'y');
        assert_eq!(at_limit.len(), LOG_LIMIT_BYTES);
        let (lines, cut) = log_lines(&at_limit);
        assert!(cut);
        assert_eq!(lines.len(), LOG_LIMIT_BYTES / 2);
        assert_eq!(lines.last().map(String::as_str), Some("\u{fffd}y"));
    }
}
