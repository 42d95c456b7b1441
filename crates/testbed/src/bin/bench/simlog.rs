//! The simulator's status-write log: every pod status `rollwatch-sim` writes, with the wall-clock
//! millisecond at which the API server acknowledged it. Written when the simulator runs with
//! `RUST_LOG=rollwatch_sim::status_write=debug` (see crates/sim/src/worker.rs); this is the
//! moment a benchmark times observers against.

use std::path::Path;

/// One acknowledged status write.
#[derive(Debug, Clone)]
pub struct StatusWrite {
    pub namespace: String,
    pub pod: String,
    /// Unix milliseconds when the API server acknowledged the write.
    pub acked_ms: i64,
    /// The simulator's summary: `phase=P ready=True|False NAME=STATE[/REASON] restarts=N ...`.
    pub status: String,
}

impl StatusWrite {
    pub fn ready(&self) -> bool {
        self.status.split(' ').any(|token| token == "ready=True")
    }

    pub fn shows_reason(&self, reason: &str) -> bool {
        self.status.split(' ').any(|token| token.ends_with(&format!("/{reason}")))
    }

    /// The highest restart count of the pod's containers.
    pub fn restarts(&self) -> u32 {
        self.status.split(' ').filter_map(|t| t.strip_prefix("restarts=")).filter_map(|n| n.parse().ok()).max().unwrap_or(0)
    }
}

/// Every status write in the log so far, in the order written.
pub fn read(log: &Path) -> Vec<StatusWrite> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().filter(|l| l.contains("status written")).filter_map(|l| parse(&strip_ansi(l))).collect()
}

/// The writes of one namespace.
pub fn in_namespace(log: &Path, namespace: &str) -> Vec<StatusWrite> {
    read(log).into_iter().filter(|w| w.namespace == namespace).collect()
}

fn parse(line: &str) -> Option<StatusWrite> {
    let field = |name: &str| {
        let start = line.find(&format!(" {name}="))? + name.len() + 2;
        Some(line[start..].split(' ').next()?.to_owned())
    };
    // The summary has spaces: it is the last field, so it runs to the end of the line.
    let status = line[line.find(" status=")? + 8..].to_owned();
    Some(StatusWrite { namespace: field("namespace")?, pod: field("pod")?, acked_ms: field("acked_ms")?.parse().ok()?, status })
}

/// tracing colours field names even in a log file.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_coloured_log_line() {
        let line = "2026-11-23T05:00:00.1Z \u{1b}[34mDEBUG\u{1b}[0m rollwatch_sim::status_write: status written \u{1b}[3mnamespace\u{1b}[0m\u{1b}[2m=\u{1b}[0mns1 \u{1b}[3mpod\u{1b}[0m\u{1b}[2m=\u{1b}[0mweb-1 sent_ms=10 acked_ms=12 status=phase=Running ready=False app=waiting/CrashLoopBackOff restarts=2";
        let write = parse(&strip_ansi(line)).unwrap();
        assert_eq!((write.namespace.as_str(), write.pod.as_str(), write.acked_ms), ("ns1", "web-1", 12));
        assert!(write.shows_reason("CrashLoopBackOff") && !write.ready());
        assert_eq!(write.restarts(), 2);
    }
}
