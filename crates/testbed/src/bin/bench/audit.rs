//! The API server's audit log (`scripts/cluster` with `ROLLWATCH_AUDIT=1`): one JSON record per
//! request, written when it completes, naming its user and user agent. /metrics counts every
//! client together; the audit log counts exactly the requests of the client under test.

use jiff::Timestamp;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The identity only the benchmark's watchers use (a static token of `scripts/cluster`).
pub const BENCH_USER: &str = "bench";
/// The kubeconfig context that signs in as [`BENCH_USER`].
pub const BENCH_CONTEXT: &str = "rollwatch-bench";

pub struct AuditLog(PathBuf);

impl AuditLog {
    pub fn from_env() -> Self {
        AuditLog(PathBuf::from(std::env::var_os("AUDIT_LOG").expect("AUDIT_LOG (scripts/bench sets it)")))
    }

    /// Where the log ends now: records written later start at or after it.
    pub fn end(&self) -> u64 {
        std::fs::metadata(&self.0).unwrap_or_else(|e| panic!("{}: {e}", self.0.display())).len()
    }

    /// The records written since `offset` (an earlier [`AuditLog::end`]).
    pub fn since(&self, offset: u64) -> Vec<Record> {
        read_from(&self.0, offset)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| Record::parse(l).unwrap_or_else(|| panic!("audit record not understood: {l}")))
            .collect()
    }
}

fn read_from(path: &Path, offset: u64) -> String {
    let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.seek(SeekFrom::Start(offset)).expect("seek in the audit log");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("read the audit log");
    text
}

/// One request, as the audit log records it at level Metadata (no sizes: those stay /metrics').
#[derive(Debug, Clone)]
pub struct Record {
    pub user: String,
    pub user_agent: String,
    /// The audit log's verb: get, list, watch, create, update, patch, delete, ...
    pub verb: String,
    /// The path without its query; kept for requests outside the API's objects (discovery, /version).
    pub path: String,
    /// Whether the request was on API objects (the audit log names them in `objectRef`).
    pub on_objects: bool,
    pub received: Timestamp,
    pub completed: Timestamp,
}

impl Record {
    fn parse(line: &str) -> Option<Record> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let text = |pointer: &str| v.pointer(pointer).and_then(|x| x.as_str()).map(str::to_owned);
        let uri = text("/requestURI")?;
        Some(Record {
            user: text("/user/username")?,
            user_agent: text("/userAgent").unwrap_or_default(),
            verb: text("/verb")?,
            path: uri.split('?').next().unwrap_or_default().to_owned(),
            on_objects: v.get("objectRef").is_some(),
            received: text("/requestReceivedTimestamp")?.parse().ok()?,
            completed: text("/stageTimestamp")?.parse().ok()?,
        })
    }

    /// The client program: the user agent up to its first `/` (`rollwatch`, `kubectl`).
    pub fn program(&self) -> &str {
        self.user_agent.split('/').next().unwrap_or_default()
    }
}

/// One client's requests in a run.
#[derive(Debug, Default, Clone)]
pub struct ClientRequests {
    /// Requests on API objects by verb (upper case, as the report prints them).
    pub by_verb: BTreeMap<String, usize>,
    /// Requests outside the API's objects (discovery: /api, /apis, /apis/GROUP/VERSION; /version), by path.
    pub other_paths: BTreeMap<String, usize>,
    /// Most watches open at the same time.
    pub peak_watches: usize,
}

impl ClientRequests {
    pub fn of<'a>(records: impl IntoIterator<Item = &'a Record>) -> Self {
        let mut counts = ClientRequests::default();
        // (time, +1 when a watch opens / -1 when it ends); at equal times an end comes first.
        let mut watch_edges: Vec<(Timestamp, i32)> = Vec::new();
        for record in records {
            if record.on_objects {
                *counts.by_verb.entry(record.verb.to_uppercase()).or_default() += 1;
            } else {
                *counts.other_paths.entry(record.path.clone()).or_default() += 1;
            }
            if record.verb == "watch" {
                watch_edges.push((record.received, 1));
                watch_edges.push((record.completed, -1));
            }
        }
        watch_edges.sort();
        let mut open = 0i32;
        for (_, edge) in watch_edges {
            open += edge;
            counts.peak_watches = counts.peak_watches.max(open as usize);
        }
        counts
    }

    pub fn total(&self) -> usize {
        self.by_verb.values().sum::<usize>() + self.discovery()
    }

    /// Requests outside the API's objects: discovery and /version.
    pub fn discovery(&self) -> usize {
        self.other_paths.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(verb: &str, path: &str, on_objects: bool, received: &str, completed: &str) -> Record {
        let mut line = serde_json::json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "stage": "ResponseComplete",
            "requestURI": format!("{path}?timeout=32s"), "verb": verb,
            "user": {"username": "bench", "groups": ["system:masters"]},
            "userAgent": "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07",
            "requestReceivedTimestamp": received, "stageTimestamp": completed,
        });
        if on_objects {
            line["objectRef"] = serde_json::json!({"resource": "deployments", "apiGroup": "apps", "apiVersion": "v1"});
        }
        Record::parse(&line.to_string()).expect("a record")
    }

    #[test]
    fn reads_a_record_of_the_api_server() {
        let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"c1","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/t1/deployments?watch=true","verb":"watch","user":{"username":"bench","uid":"uid-bench","groups":["system:masters","system:authenticated"]},"sourceIPs":["127.0.0.1"],"userAgent":"rollwatch/0.1.0","objectRef":{"resource":"deployments","namespace":"t1","apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-23T06:51:39.896254Z","stageTimestamp":"2026-11-23T06:51:40.086819Z"}"#;
        let r = Record::parse(line).expect("a record");
        assert_eq!(
            (r.user.as_str(), r.program(), r.verb.as_str(), r.path.as_str(), r.on_objects),
            ("bench", "rollwatch", "watch", "/apis/apps/v1/namespaces/t1/deployments", true)
        );
        assert_eq!(r.completed.as_microsecond() - r.received.as_microsecond(), 190_565);
    }

    #[test]
    fn counts_verbs_discovery_and_overlapping_watches() {
        let records = [
            record("get", "/api", false, "2026-11-23T06:00:00.000000Z", "2026-11-23T06:00:00.001000Z"),
            record("get", "/apis/apps/v1", false, "2026-11-23T06:00:00.000000Z", "2026-11-23T06:00:00.001000Z"),
            record("list", "/apis/apps/v1/deployments", true, "2026-11-23T06:00:01.000000Z", "2026-11-23T06:00:01.001000Z"),
            // Two watches overlap; the third opens the moment the first ends.
            record("watch", "/apis/apps/v1/deployments", true, "2026-11-23T06:00:02.000000Z", "2026-11-23T06:00:05.000000Z"),
            record("watch", "/apis/apps/v1/deployments", true, "2026-11-23T06:00:03.000000Z", "2026-11-23T06:00:09.000000Z"),
            record("watch", "/apis/apps/v1/deployments", true, "2026-11-23T06:00:05.000000Z", "2026-11-23T06:00:06.000000Z"),
        ];
        let counts = ClientRequests::of(&records);
        assert_eq!(counts.by_verb, BTreeMap::from([("LIST".to_owned(), 1), ("WATCH".to_owned(), 3)]));
        assert_eq!(counts.other_paths, BTreeMap::from([("/api".to_owned(), 1), ("/apis/apps/v1".to_owned(), 1)]));
        assert_eq!((counts.total(), counts.discovery(), counts.peak_watches), (6, 2, 2));
    }
}
