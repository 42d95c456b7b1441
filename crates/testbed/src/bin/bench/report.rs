//! The BENCHMARKS.md section: tables of the measured figures against the targets, and the splice
//! that replaces only this benchmark's section of the file.

use crate::load::{LoadSample, Watcher};
use crate::latency::{Failure, FailureSample, POLL_LOOP_TIMEOUT, PROGRESS_DEADLINE_S, SuccessSample};
use std::fmt::Write;
use std::path::Path;

pub const BEGIN: &str = "<!-- BEGIN detection: written by scripts/bench -->";
pub const END: &str = "<!-- END detection -->";

/// Failure detected at most this long after the failing status write (issue #6).
const FAILURE_TARGET_MS: i64 = 1000;
/// The verbs a watcher uses.
const READS: [&str; 3] = ["GET", "LIST", "WATCH"];
/// Success verdict at most this long after the last status write (issue #6).
const SUCCESS_TARGET_MS: i64 = 100;

pub struct Section {
    pub verdict_throughput: String,
    pub failures: Vec<FailureSample>,
    pub successes: Vec<SuccessSample>,
    pub load: Vec<LoadSample>,
    pub kubectl_max: usize,
}

impl Section {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split(' ').take(3).collect();
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let _ = writeln!(s, "{BEGIN}\n## Detection latency: rollwatch vs kubectl\n");
        let _ = writeln!(
            s,
            "`scripts/bench` on the local control plane (v1.20.2 with rollwatch-sim, {} nodes), {}, load average {} \
             at the end of the run on {cores} cores; release builds. Every watcher is started together right after \
             `kubectl apply`; latencies are from the decisive status write (the simulator logs the millisecond the API \
             server acknowledged each pod status write) to the watcher's exit.\n",
            crate::procs::kubectl_ok(&["get", "nodes", "--no-headers"], None).lines().count(),
            today(),
            load.join(" ")
        );
        let _ = writeln!(s, "**Verdict engine throughput** (`cargo bench -p rollwatch-verdict`): {}\n", self.verdict_throughput);
        self.render_failures(&mut s);
        self.render_successes(&mut s);
        self.render_load(&mut s);
        let _ = write!(s, "{END}");
        s
    }

    fn render_failures(&self, s: &mut String) {
        let reps = self.failures.iter().filter(|f| f.failure == Failure::BadImage).count();
        let _ = writeln!(
            s,
            "### Failure detection ({reps} samples per failure)\n\n\
             Deployments of 1 replica, `progressDeadlineSeconds: {PROGRESS_DEADLINE_S}`, the three failures at once in \
             their own namespaces. rollwatch runs with its tolerances off (`--waiting-grace 0s --allowed-restarts 0 \
             --unschedulable-grace 0s`; the defaults deliberately wait 60 s, 1 restart and 120 s), so this is the \
             latency of detection, not of a grace period. The poll loop GETs the Deployment every 3 s until \
             replicas = ready = available = updated, and gives up after {} s.\n",
            POLL_LOOP_TIMEOUT.as_secs()
        );
        let _ = writeln!(s, "| failure | decisive write | rollwatch median / max | rollwatch reason, exit | `kubectl rollout status` median / max | kubectl exit | poll loop | target ≤ 1 s (max) |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
        for failure in Failure::ALL {
            let samples: Vec<&FailureSample> = self.failures.iter().filter(|f| f.failure == failure).collect();
            if samples.is_empty() {
                continue;
            }
            let rollwatch: Vec<i64> = samples.iter().map(|f| f.rollwatch_ms).collect();
            let kubectl: Vec<i64> = samples.iter().map(|f| f.kubectl_ms).collect();
            let reasons = distinct(samples.iter().map(|f| format!("{} ({})", f.rollwatch_reason, code(f.rollwatch_code))));
            let kubectl_codes = distinct(samples.iter().map(|f| code(f.kubectl_code)));
            let poll_timeouts = samples.iter().filter(|f| f.poll_loop_code == Some(1)).count();
            let poll_ms: Vec<i64> = samples.iter().map(|f| f.poll_loop_ms).collect();
            let poll = format!(
                "gave up at its timeout in {poll_timeouts} of {} ({} s after the failing write, median), never naming the failure",
                samples.len(),
                seconds(median(&poll_ms))
            );
            let max = *rollwatch.iter().max().expect("samples");
            let _ = writeln!(
                s,
                "| {} | {} | {} / {} ms | {reasons} | {} / {} s (deadline {PROGRESS_DEADLINE_S} s {:+.1} s) | {kubectl_codes} | {poll} | {} |",
                failure.label(),
                failure.decisive_write(),
                median(&rollwatch),
                max,
                seconds(median(&kubectl)),
                seconds(*kubectl.iter().max().expect("samples")),
                (median(&kubectl) as f64 / 1000.0) - f64::from(PROGRESS_DEADLINE_S),
                verdict(max <= FAILURE_TARGET_MS),
            );
        }
        let _ = writeln!(
            s,
            "\n`kubectl rollout status` reports a failure only once the Deployment controller sets \
             ProgressDeadlineExceeded, {PROGRESS_DEADLINE_S} s after the last progress (the Deployment's creation here), \
             so its latency after the failing write is the deadline plus the controller's resync; the default deadline is 600 s.\n"
        );
    }

    fn render_successes(&self, s: &mut String) {
        let n = self.successes.len();
        let _ = writeln!(
            s,
            "### Success detection ({n} samples)\n\n\
             A 3-replica Deployment that comes up; from the simulator's last pod Ready write (the last of the three \
             pods' first Ready status) to the watcher's exit. This includes the Deployment controller's own update of \
             the Deployment's status after that write, which every watcher has to wait for.\n"
        );
        let _ = writeln!(s, "| watcher | median | max | exit codes | target ≤ 100 ms (max) |\n|---|---|---|---|---|");
        // (label, the sample's figure, the watcher's index in `codes`)
        type Row = (&'static str, fn(&SuccessSample) -> i64, usize);
        let rows: [Row; 3] = [
            ("`rollwatch wait` (watch)", |x| x.watch_ms, 0),
            ("`rollwatch wait --poll` (2 s interval)", |x| x.poll_ms, 1),
            ("`kubectl rollout status`", |x| x.kubectl_ms, 2),
        ];
        for (label, pick, index) in rows {
            let values: Vec<i64> = self.successes.iter().map(pick).collect();
            let codes = distinct(self.successes.iter().map(|x| code(x.codes[index])));
            let max = values.iter().copied().max().unwrap_or(0);
            let target = if index == 0 { verdict(max <= SUCCESS_TARGET_MS) } else { "(no target)".into() };
            let _ = writeln!(s, "| {label} | {} ms | {max} ms | {codes} | {target} |", median(&values));
        }
        let _ = writeln!(s, "\nWith {n} samples, the max stands in for the p99 the targets name.\n");
    }
}

impl Section {
    fn render_load(&self, s: &mut String) {
        if self.load.is_empty() {
            let _ = writeln!(s, "### API load, memory and CPU

Not measured in this run.
");
            return;
        }
        let _ = writeln!(
            s,
            "### API load, memory and CPU for N Deployments\n\n\
             N Deployments of 3 replicas applied at once to a fresh namespace, three times: with no watcher, with one \
             `rollwatch wait deployment -l bench=load` over all N, and with one `kubectl rollout status` per Deployment \
             in parallel (up to N = {}). The API server's counters count every client, so the figures are the run's \
             deltas minus the no-watcher run's deltas for the same N (controllers, scheduler and simulator do the same \
             work in each run; what is left is the watcher's, give or take their noise). Requests from \
             `apiserver_request_total` by verb; bytes from `apiserver_response_sizes_sum` plus \
             `apiserver_watch_events_sizes_sum`; watches are the peak of `apiserver_registered_watchers` above the \
             level before the run, sampled every 0.5 s (the pods have a readiness probe with a 5 s initial delay, so a \
             rollout lasts long enough to be sampled); the sampling scrapes of /metrics are taken out of the GETs. rollwatch's peak RSS and CPU time from `/usr/bin/time`.\n",
            self.kubectl_max
        );
        let _ = writeln!(s, "| N | watcher | requests by verb (net) | reads: GET + LIST + WATCH (net) | peak watches (net) | bytes sent (net) | rollwatch peak RSS | rollwatch CPU | run | exits |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
        let mut ratios = Vec::new();
        for sample in self.load.iter().filter(|x| x.watcher != Watcher::None) {
            let Some(baseline) = self.load.iter().find(|b| b.n == sample.n && b.watcher == Watcher::None) else { continue };
            let net: Vec<(String, f64)> = sample
                .requests
                .iter()
                .map(|(verb, v)| (verb.clone(), v - baseline.requests.get(verb).copied().unwrap_or(0.0)))
                .filter(|(_, v)| v.abs() >= 1.0)
                .collect();
            // Watchers only read; the write verbs are the controllers', whose count varies by
            // hundreds between identical runs, so only the reads are compared.
            let total: f64 = net.iter().filter(|(verb, _)| READS.contains(&verb.as_str())).map(|(_, v)| v).sum();
            let by_verb = net.iter().map(|(verb, v)| format!("{verb} {v:.0}")).collect::<Vec<_>>().join(", ");
            let label = match sample.watcher {
                Watcher::Rollwatch => "one `rollwatch wait`".to_owned(),
                _ => format!("{} × `kubectl rollout status`", sample.n),
            };
            let rss = sample.rollwatch_rss_kib.map_or("".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
            let cpu = sample.rollwatch_cpu_s.map_or("".into(), |c| format!("{c:.2} s"));
            let codes = distinct(sample.codes.iter().map(|c| code(*c)));
            let _ = writeln!(
                s,
                "| {} | {label} | {by_verb} | {total:.0} | {:.0} | {:.1} MB | {rss} | {cpu} | {:.0} s | {codes} |",
                sample.n,
                sample.peak_watchers - baseline.peak_watchers,
                (sample.bytes - baseline.bytes) / 1e6,
                sample.seconds
            );
            ratios.push((sample.n, sample.watcher, total));
        }
        let _ = writeln!(s, "
Baseline (no watcher) runs: {}.
", self
            .load
            .iter()
            .filter(|b| b.watcher == Watcher::None)
            .map(|b| format!("N = {}: {:.0} requests, {:.0} s", b.n, b.requests.values().sum::<f64>(), b.seconds))
            .collect::<Vec<_>>()
            .join("; "));
        for (n, _, rollwatch) in ratios.iter().filter(|r| r.1 == Watcher::Rollwatch) {
            if let Some((_, _, kubectl)) = ratios.iter().find(|r| r.0 == *n && r.1 == Watcher::Kubectl) {
                let target = |met: String| if *n == 100 { format!(" (target at N = 100: at least 20×: {met})") } else { String::new() };
                if *rollwatch >= 1.0 {
                    let ratio = kubectl / rollwatch;
                    let _ = writeln!(s, "- N = {n}: kubectl's approach made {ratio:.1}× rollwatch's read requests{}.", target(verdict(ratio >= 20.0)));
                } else {
                    let _ = writeln!(
                        s,
                        "- N = {n}: rollwatch's net read requests ({rollwatch:.0}) are within the baseline's noise, kubectl's approach made {kubectl:.0}{}.",
                        target("not measurable in this run".into())
                    );
                }
            }
        }
        let _ = writeln!(s);
    }
}

/// Replaces this benchmark's section of `file` (or appends it), leaving the rest as it is.
pub fn splice(file: &Path, section: &str) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|_| "# Benchmarks\n".into());
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(begin), Some(end)) if begin < end => format!("{}{section}{}", &text[..begin], &text[end + END.len()..]),
        _ => format!("{}\n{section}\n", text.trim_end_matches('\n').to_owned() + "\n"),
    };
    std::fs::write(file, updated).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
}

fn median(values: &[i64]) -> i64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

fn seconds(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 1000.0)
}

fn code(code: Option<i32>) -> String {
    code.map_or("killed".into(), |c| format!("exit {c}"))
}

fn distinct(items: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen.join(", ")
}

fn verdict(met: bool) -> String {
    if met { "met".into() } else { "**missed**".into() }
}

fn today() -> String {
    let out = std::process::Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
}
