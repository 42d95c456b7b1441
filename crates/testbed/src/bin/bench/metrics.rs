//! The API server's own counters (`/metrics`, Prometheus text): the bytes it sent. They count
//! every client (controllers, scheduler, simulator too), so a benchmark takes deltas around a run
//! and subtracts a run without the watcher under test. (Request counts come from the audit log,
//! which names the client; its records at level Metadata carry no sizes.)

use crate::procs::kubectl_ok;

/// One scrape: (metric name, value) per sample line.
pub struct Scrape(Vec<(String, f64)>);

pub fn scrape() -> Scrape {
    let text = kubectl_ok(&["get", "--raw", "/metrics"], None);
    Scrape(text.lines().filter(|l| !l.starts_with('#')).filter_map(parse).collect())
}

fn parse(line: &str) -> Option<(String, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let name = series.split_once('{').map_or(series, |(name, _labels)| name);
    Some((name.to_owned(), value.parse().ok()?))
}

impl Scrape {
    fn sum(&self, name: &str) -> f64 {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v).sum()
    }

    /// Bytes the API server sent: response bodies of non-watch requests plus watch events.
    pub fn bytes_sent(&self) -> f64 {
        self.sum("apiserver_response_sizes_sum") + self.sum("apiserver_watch_events_sizes_sum")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_values() {
        let scrape = Scrape(
            [
                r#"apiserver_response_sizes_sum{component="apiserver",resource="pods",verb="LIST"} 1200"#,
                r#"apiserver_response_sizes_sum{component="apiserver",resource="deployments",verb="GET"} 300"#,
                "apiserver_watch_events_sizes_sum 45.5",
                "process_start_time_seconds 1.7e+09",
            ]
            .into_iter()
            .filter_map(parse)
            .collect(),
        );
        assert_eq!(scrape.bytes_sent(), 1545.5);
    }
}
