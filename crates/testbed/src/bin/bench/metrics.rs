//! The API server's own counters (`/metrics`, Prometheus text): requests by verb, bytes sent, and
//! registered watchers. They count every client (controllers, scheduler, simulator too), so a
//! benchmark takes deltas around a run and subtracts a run without the watcher under test.

use crate::procs::kubectl_ok;
use std::collections::BTreeMap;

/// One scrape: (metric name, labels, value) per sample line.
pub struct Scrape(Vec<(String, String, f64)>);

pub fn scrape() -> Scrape {
    let text = kubectl_ok(&["get", "--raw", "/metrics"], None);
    Scrape(text.lines().filter(|l| !l.starts_with('#')).filter_map(parse).collect())
}

fn parse(line: &str) -> Option<(String, String, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let (name, labels) = match series.split_once('{') {
        Some((name, labels)) => (name, labels.trim_end_matches('}')),
        None => (series, ""),
    };
    Some((name.to_owned(), labels.to_owned(), value.parse().ok()?))
}

/// The value of `label` in a Prometheus label set (`a="x",b="y"`).
fn label<'a>(labels: &'a str, label: &str) -> &'a str {
    let key = format!("{label}=\"");
    labels.split(',').find_map(|pair| pair.strip_prefix(&key)).map_or("", |v| v.trim_end_matches('"'))
}

impl Scrape {
    fn sum(&self, name: &str) -> f64 {
        self.0.iter().filter(|(n, _, _)| n == name).map(|(_, _, v)| v).sum()
    }

    /// apiserver_request_total by verb.
    pub fn requests_by_verb(&self) -> BTreeMap<String, f64> {
        let mut by_verb = BTreeMap::new();
        for (_, labels, value) in self.0.iter().filter(|(n, _, _)| n == "apiserver_request_total") {
            *by_verb.entry(label(labels, "verb").to_owned()).or_insert(0.0) += value;
        }
        by_verb
    }

    /// Bytes the API server sent: response bodies of non-watch requests plus watch events.
    pub fn bytes_sent(&self) -> f64 {
        self.sum("apiserver_response_sizes_sum") + self.sum("apiserver_watch_events_sizes_sum")
    }

    /// Watches open now.
    pub fn watchers(&self) -> f64 {
        self.sum("apiserver_registered_watchers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_and_values() {
        let (name, labels, value) = parse(r#"apiserver_request_total{code="200",verb="WATCH",resource="pods"} 17"#).unwrap();
        assert_eq!((name.as_str(), label(&labels, "verb"), label(&labels, "resource"), value), ("apiserver_request_total", "WATCH", "pods", 17.0));
    }
}
