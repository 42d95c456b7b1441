//! The BENCHMARKS.md section: tables of the measured figures against the targets, and the splice
//! that replaces only this benchmark's section of the file.

use crate::audit::ClientRequests;
use crate::latency::{Failure, FailureSample, POLL_LOOP_TIMEOUT, PROGRESS_DEADLINE_S, ROLLWATCH_ONLY_LANES, SuccessSample, Watched};
use crate::load::{LoadSample, Watcher};
use crate::stats::{Percentiles, chance_all_within_if_p99_above};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

pub const BEGIN: &str = "<!-- BEGIN detection: written by scripts/bench -->";
pub const END: &str = "<!-- END detection -->";

/// Failure detected at most this long after the failing status write (issue #6).
const FAILURE_TARGET_MS: i64 = 1000;
/// Success verdict at most this long after the last status write (issue #6).
const SUCCESS_TARGET_MS: i64 = 100;

pub struct Section {
    pub verdict_throughput: String,
    pub failures: Vec<FailureSample>,
    /// Failing rollouts of each kind started at once in a repetition.
    pub parallel: usize,
    /// The rollwatch-only failure samples of each repetition.
    pub rollwatch_only: Vec<usize>,
    pub successes: Vec<SuccessSample>,
    pub latency_minutes: f64,
    pub load: Vec<LoadSample>,
    pub kubectl_max: usize,
}

impl Section {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split(' ').take(3).collect();
        let _ = writeln!(s, "{BEGIN}\n## Detection latency: rollwatch vs kubectl\n");
        let _ = writeln!(
            s,
            "`scripts/bench` on the local control plane (v1.20.2 with rollwatch-sim, {} nodes), {}, load average {} \
             at the end of the run on {} cores; release builds. Every watcher is started together right after \
             `kubectl apply`; latencies are from the decisive status write (the simulator logs the millisecond the API \
             server acknowledged each pod status write) to the watcher's exit.\n",
            crate::procs::kubectl_ok(&["get", "nodes", "--no-headers"], None).lines().count(),
            today(),
            load.join(" "),
            cores()
        );
        let _ = writeln!(s, "**Verdict engine throughput** (`cargo bench -p rollwatch-verdict`): {}\n", self.verdict_throughput);
        self.render_failures(&mut s);
        self.render_successes(&mut s);
        self.render_load(&mut s);
        self.render_cpu(&mut s);
        let _ = write!(s, "{END}");
        s
    }

    fn render_failures(&self, s: &mut String) {
        let reps = self.rollwatch_only.len();
        let parallel = self.parallel;
        let lanes = 3 * ROLLWATCH_ONLY_LANES;
        let extra: usize = self.rollwatch_only.iter().sum();
        let _ = writeln!(
            s,
            "### Failure detection\n\n\
             Deployments of 1 replica, `progressDeadlineSeconds: {PROGRESS_DEADLINE_S}`. Each of {reps} repetitions \
             starts {parallel} failing Deployments of each kind at once ({} in all, each in its own namespace), each \
             watched by `rollwatch wait` and `kubectl rollout status`, the first of each kind also by the poll loop \
             (it ends at its timeout every time). kubectl needs the progress deadline every time, so while it waits, \
             **rollwatch-only** samples add to rollwatch's: {lanes} lanes ({ROLLWATCH_ONLY_LANES} per kind) each \
             run one failing Deployment watched by rollwatch alone after another, until kubectl and the poll loop have \
             ended ({extra} of rollwatch's samples below). So up to {} failing Deployments were being watched at once \
             (earlier ones still being deleted), with {} `kubectl rollout status`, 3 poll loops and up to {} rollwatch \
             processes (most end within a second of their start) on the {} cores. rollwatch runs with its \
             tolerances off (`--waiting-grace 0s --allowed-restarts 0 --unschedulable-grace 0s`; the defaults \
             deliberately wait 60 s, 1 restart and 120 s), so this is the latency of detection, not of a grace period. \
             The poll loop GETs the Deployment every 3 s until replicas = ready = available = updated, and gives up \
             after {} s. Percentiles by nearest rank: the pP of n samples is the ⌈P/100 · n⌉-th smallest, a measured \
             value; for n < 100 the p99 is the largest sample.\n",
            3 * parallel,
            3 * parallel + lanes,
            3 * parallel,
            3 * parallel + lanes,
            cores(),
            POLL_LOOP_TIMEOUT.as_secs()
        );
        let _ = writeln!(s, "| failure | watcher | n | p50 | p95 | p99 | max | outcome | target ≤ 1 s (p99) |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
        let mut evidence = Vec::new();
        for failure in Failure::ALL {
            let samples: Vec<&FailureSample> = self.failures.iter().filter(|f| f.failure == failure).collect();
            let rollwatch: Vec<i64> = samples.iter().map(|f| f.rollwatch.ms).collect();
            let Some(ours) = Percentiles::of(&rollwatch) else {
                continue;
            };
            let reasons = distinct(samples.iter().map(|f| format!("{} ({})", f.rollwatch_reason, code(f.rollwatch.code))));
            let met = ours.p99 <= FAILURE_TARGET_MS;
            let _ = writeln!(s, "| {} | `rollwatch wait` | {} | {reasons} | {} |", failure.label(), row(&ours), verdict(met));
            if rollwatch.iter().all(|&ms| ms <= FAILURE_TARGET_MS) {
                evidence.push(format!("{} {:.2} (n = {})", failure.label(), chance_all_within_if_p99_above(ours.n), ours.n));
            }
            let kubectl: Vec<Watched> = samples.iter().filter_map(|f| f.kubectl).collect();
            if let Some(theirs) = Percentiles::of(&kubectl.iter().map(|w| w.ms).collect::<Vec<_>>()) {
                let codes = distinct(kubectl.iter().map(|w| code(w.code)));
                let _ = writeln!(
                    s,
                    "| {} | `kubectl rollout status` | {} | {codes}, after the {PROGRESS_DEADLINE_S} s deadline | (no target) |",
                    failure.label(),
                    row(&theirs)
                );
            }
            let polls: Vec<Watched> = samples.iter().filter_map(|f| f.poll_loop).collect();
            if let Some(poll) = Percentiles::of(&polls.iter().map(|w| w.ms).collect::<Vec<_>>()) {
                let gave_up = polls.iter().filter(|w| w.code == Some(1)).count();
                let _ = writeln!(
                    s,
                    "| {} | poll loop | {} | gave up at its timeout in {gave_up} of {}, never naming the failure | (no target) |",
                    failure.label(),
                    row(&poll),
                    polls.len()
                );
            }
        }
        let _ = writeln!(s, "\nThe decisive writes:\n");
        for failure in Failure::ALL {
            let _ = writeln!(s, "- {}: {}.", failure.label(), failure.decisive_write());
        }
        let _ = writeln!(
            s,
            "\n`kubectl rollout status` reports a failure only once the Deployment controller sets \
             ProgressDeadlineExceeded, {PROGRESS_DEADLINE_S} s after the last progress (the Deployment's creation here), \
             so its latency after the failing write is the deadline plus the controller's resync, every time; the default \
             deadline is 600 s. {}\n",
            evidence_line(&evidence, "1 s")
        );
    }

    fn render_successes(&self, s: &mut String) {
        let n = self.successes.len();
        let _ = writeln!(
            s,
            "### Success detection ({n} samples)\n\n\
             A 3-replica Deployment that comes up, one at a time (no other rollout runs meanwhile), with all four \
             watchers on it; from the simulator's last pod Ready write (the last of the three pods' first Ready \
             status) to the watcher's exit. This includes the Deployment controller's own update of the Deployment's \
             status after that write, which every watcher has to wait for. Percentiles by nearest rank, as above. \
             rollwatch's raw detection figures are with `--stable-for 0` (kubectl's instant verdict), comparable with \
             runs before the settle window became the default; the default (`rollwatch wait` as is) also waits out \
             the window, counted from each pod's own Ready write: window plus detection.\n"
        );
        let _ = writeln!(s, "| watcher | n | p50 | p95 | p99 | max | exits | target ≤ 100 ms (p99) |\n|---|---|---|---|---|---|---|---|");
        // (label, the sample's figure, the watcher's index in `codes`)
        type Row = (&'static str, fn(&SuccessSample) -> i64, usize);
        let rows: [Row; 4] = [
            ("`rollwatch wait --stable-for 0` (watch)", |x| x.watch_ms, 0),
            ("`rollwatch wait --poll --stable-for 0` (2 s interval)", |x| x.poll_ms, 1),
            ("`kubectl rollout status`", |x| x.kubectl_ms, 2),
            ("`rollwatch wait` (watch, default 10 s settle window)", |x| x.settled_ms, 3),
        ];
        let mut evidence = Vec::new();
        for (label, pick, index) in rows {
            let values: Vec<i64> = self.successes.iter().map(pick).collect();
            let Some(p) = Percentiles::of(&values) else {
                continue;
            };
            let codes = distinct(self.successes.iter().map(|x| code(x.codes[index])));
            let target = if index == 0 { verdict(p.p99 <= SUCCESS_TARGET_MS) } else { "(no target)".into() };
            if index == 0 && p.max <= SUCCESS_TARGET_MS {
                evidence.push(format!("{:.2} (n = {})", chance_all_within_if_p99_above(p.n), p.n));
            }
            let _ = writeln!(s, "| {label} | {} | {codes} | {target} |", row(&p));
        }
        let _ = writeln!(s, "\n{}\n", evidence_line(&evidence, "100 ms"));
        let _ = writeln!(s, "The latency part of this run (failures and successes) took {:.1} min.\n", self.latency_minutes);
    }
}

/// The success detection table alone, for a run of only that part (`BENCH_ONLY=successes`).
pub fn successes_only(successes: Vec<SuccessSample>, latency_minutes: f64) -> String {
    let mut s = String::new();
    let section = Section {
        verdict_throughput: String::new(),
        failures: Vec::new(),
        parallel: 0,
        rollwatch_only: Vec::new(),
        successes,
        latency_minutes,
        load: Vec::new(),
        kubectl_max: 0,
    };
    section.render_successes(&mut s);
    s
}

/// n, p50, p95, p99 and max as table cells.
fn row(p: &Percentiles) -> String {
    format!("{} | {} | {} | {} | {}", p.n, latency(p.p50), latency(p.p95), latency(p.p99), latency(p.max))
}

/// Milliseconds below 10 s, seconds with one decimal above.
fn latency(ms: i64) -> String {
    if ms.abs() >= 10_000 { format!("{} s", seconds(ms)) } else { format!("{ms} ms") }
}

/// How much a p99 of the cases whose samples all met the target proves.
fn evidence_line(cases: &[String], target: &str) -> String {
    if cases.is_empty() {
        return String::new();
    }
    format!(
        "How much a p99 of n samples proves: were rollwatch's true p99 above {target}, all n samples would still \
         fall within {target} with a chance of up to 0.99^n: {} (about 300 samples all within it are needed for 5%).",
        cases.join(", ")
    )
}

impl Section {
    fn render_load(&self, s: &mut String) {
        if self.load.is_empty() {
            let _ = writeln!(s, "### API load, memory and CPU\n\nNot measured in this run.\n");
            return;
        }
        let _ = writeln!(
            s,
            "### API load, memory and CPU for N Deployments\n\n\
             N Deployments of 3 replicas applied at once to a fresh namespace, three times: with no watcher, with one \
             `rollwatch wait deployment -l bench=load` over all N, and with one `kubectl rollout status` per Deployment \
             in parallel (up to N = {}). **Requests are exact and the watcher's own**: the watchers sign in as a user \
             only they use (`{}`), and the API server's audit log (one record per request, level Metadata) is counted \
             for that user and the program its user agent names (`rollwatch/…`, `kubectl/…`), from the watchers' start \
             until 3 s after the last pod is Ready, by verb as the audit log names it. *Discovery* counts the requests \
             outside the API's objects (/api, /apis, /apis/GROUP/VERSION, /version). Peak watches: most of the \
             watcher's watches open at once, from the records' start and end times. The kubectl processes share a \
             discovery cache of their own (`--cache-dir`), filled just before the run by one `kubectl api-resources`, \
             as any earlier kubectl command fills ~/.kube/cache: they start warm, kubectl's cheapest case (the filling's \
             cost is below). **Bytes** come from /metrics (an audit record at level Metadata has no sizes), which counts \
             every client: the run's delta minus the no-watcher run's delta for the same N, give or take the \
             controllers' noise. rollwatch's peak RSS and CPU time from `/usr/bin/time`.\n",
            self.kubectl_max,
            crate::audit::BENCH_USER,
        );
        let _ = writeln!(
            s,
            "| N | watcher | requests by verb (audit, exact) | discovery | total requests | peak watches | bytes sent (net, /metrics) | rollwatch peak RSS | rollwatch CPU | run | exits |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
        // Requests of the benchmark's user from other programs, by program: (N, requests).
        let mut others: BTreeMap<&str, Vec<(usize, &ClientRequests)>> = BTreeMap::new();
        // kubectl's discovery cache filling before each kubectl run: (N, requests).
        let mut warm_ups: Vec<(usize, &ClientRequests)> = Vec::new();
        for sample in self.load.iter().filter(|x| x.watcher != Watcher::None) {
            let Some(baseline) = self.load.iter().find(|b| b.n == sample.n && b.watcher == Watcher::None) else { continue };
            let label = watcher_label(sample);
            let requests = &sample.requests;
            let by_verb = requests.by_verb.iter().map(|(verb, count)| format!("{verb} {count}")).collect::<Vec<_>>().join(", ");
            let rss = sample.rollwatch_rss_kib.map_or("".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
            let cpu = sample.rollwatch_cpu_s.map_or("".into(), |c| format!("{c:.2} s"));
            let codes = distinct(sample.codes.iter().map(|c| code(*c)));
            let _ = writeln!(
                s,
                "| {} | {label} | {by_verb} | {} | {} | {} | {:.1} MB | {rss} | {cpu} | {:.0} s | {codes} |",
                sample.n,
                discovery(requests),
                requests.total(),
                requests.peak_watches,
                (sample.bytes - baseline.bytes) / 1e6,
                sample.seconds
            );
            for (program, other) in &sample.other_programs {
                others.entry(program).or_default().push((sample.n, other));
            }
            warm_ups.extend(sample.cache_warm_up.iter().map(|w| (sample.n, w)));
        }
        let _ = writeln!(s);
        let by_n =
            |counts: &[(usize, &ClientRequests)]| counts.iter().map(|(n, r)| format!("N = {n}: {} ({})", r.total(), summary(r))).collect::<Vec<_>>().join("; ");
        for (program, counts) in &others {
            let why = if *program == "kubectl-dispatcher" {
                " (the `kubectl` on this machine is the Google Cloud SDK's dispatcher, which asks for the server's version \
                 to pick a kubectl binary, then runs it; kubectl itself does not)"
            } else {
                ""
            };
            let _ = writeln!(s, "- Not counted above: requests of the benchmark's user from `{program}`{why}: {}.", by_n(counts));
        }
        if let Some(&(_, largest)) = warm_ups.last() {
            let _ = writeln!(
                s,
                "- Filling kubectl's empty discovery cache before each kubectl run: {}. Every kubectl process that starts with \
                 an empty or expired cache makes about as many before its own requests: up to N × {} more if all N start cold.",
                by_n(&warm_ups),
                largest.total()
            );
        }
        let every_client = |b: &LoadSample| format!("{} requests in {:.0} s", b.all_clients, b.seconds);
        let baselines: Vec<String> = self.load.iter().filter(|b| b.watcher == Watcher::None).map(|b| format!("N = {}: {}", b.n, every_client(b))).collect();
        let _ = writeln!(
            s,
            "- Every client together (audit log; controllers, scheduler, simulator, the harness's `kubectl apply` and two \
             /metrics scrapes) in the runs with no watcher: {}.",
            baselines.join("; ")
        );
        for rollwatch in self.load.iter().filter(|x| x.watcher == Watcher::Rollwatch) {
            let Some(kubectl) = self.load.iter().find(|k| k.n == rollwatch.n && k.watcher == Watcher::Kubectl) else { continue };
            let n = rollwatch.n;
            let (ours, theirs) = (rollwatch.requests.total(), kubectl.requests.total());
            let ratio = theirs as f64 / ours.max(1) as f64;
            let target = if n == 100 { format!(" (target at N = 100: at least 20×: {})", verdict(ratio >= 20.0)) } else { String::new() };
            let _ = writeln!(s, "- N = {n}: {n} × `kubectl rollout status` made {theirs} requests, one `rollwatch wait` {ours}: {ratio:.1}×{target}.");
        }
        let _ = writeln!(s);
    }

    fn render_cpu(&self, s: &mut String) {
        let runs: Vec<CpuRun> = self.load.iter().filter(|x| x.watcher == Watcher::Rollwatch).filter_map(CpuRun::of).collect();
        if runs.is_empty() {
            return;
        }
        let _ = writeln!(
            s,
            "### rollwatch's CPU against watch events\n\n\
             The rollwatch runs above, with `RUST_LOG=rollwatch_tracker=debug`: its engine logs at the end how many \
             object events its feeds delivered (LIST items included) and how many objects it tracked. CPU (user + \
             system, from `/usr/bin/time`, in 10 ms steps) is the whole process's: start-up (kubeconfig, TLS, \
             /version), the watches, the verdicts on each event, and those of the time-based rules as they fall due \
             (before #18 every tracked object was judged again once a second, a part that grew with tracked objects × \
             run time rather than with events). *Marginal* is the extra CPU over the extra events from the previous N, which leaves the fixed \
             start-up cost out; /usr/bin/time cuts user and system time to 10 ms steps each, so a marginal can be off \
             by 20 ms over the extra events (the ±).\n"
        );
        let _ = writeln!(s, "| N | events | tracked | rollwatch run | tracked × run (object-seconds) | CPU | CPU per event | marginal CPU per event |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
        let mut marginals = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            let marginal = i.checked_sub(1).and_then(|p| run.marginal(&runs[p]));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.1} s | {:.0} | {:.2} s | {:.1} µs | {} |",
                run.n,
                run.events,
                run.tracked,
                run.wall_s,
                run.tracked as f64 * run.wall_s,
                run.cpu_s,
                run.us_per_event(),
                marginal.as_ref().map_or("".into(), |m| format!("{:.1} ± {:.1} µs", m.us, m.error_us))
            );
            marginals.extend(marginal);
        }
        let _ = writeln!(s, "\n{}\n", linearity(&marginals));
    }
}

/// One rollwatch load run's CPU and engine counts.
struct CpuRun {
    n: usize,
    events: u64,
    tracked: u64,
    wall_s: f64,
    cpu_s: f64,
}

impl CpuRun {
    fn of(sample: &LoadSample) -> Option<CpuRun> {
        let engine = sample.rollwatch_engine?;
        Some(CpuRun { n: sample.n, events: engine.events, tracked: engine.tracked, wall_s: sample.rollwatch_wall_s?, cpu_s: sample.rollwatch_cpu_s? })
    }

    fn us_per_event(&self) -> f64 {
        self.cpu_s * 1e6 / self.events.max(1) as f64
    }

    /// The extra CPU per extra event over a run with fewer events.
    fn marginal(&self, smaller: &CpuRun) -> Option<Marginal> {
        let events = self.events.checked_sub(smaller.events).filter(|&e| e > 0)? as f64;
        Some(Marginal { from: smaller.n, to: self.n, us: (self.cpu_s - smaller.cpu_s) * 1e6 / events, error_us: CPU_STEPS_S * 1e6 / events })
    }
}

/// How far the difference of two CPU figures of /usr/bin/time can be off: it cuts user and
/// system time to 10 ms each, so each figure is up to 20 ms short.
const CPU_STEPS_S: f64 = 0.02;

/// The extra CPU per extra event from N = `from` to N = `to`, give or take `error_us`.
struct Marginal {
    from: usize,
    to: usize,
    us: f64,
    error_us: f64,
}

/// Whether CPU grows linearly in events: the marginal CPU per event of the largest step against
/// the step before, unless the two differ by less than /usr/bin/time can tell.
fn linearity(marginals: &[Marginal]) -> String {
    let steps = marginals.iter().map(|m| format!("{:.1} ± {:.1} µs from N = {} to {}", m.us, m.error_us, m.from, m.to)).collect::<Vec<_>>().join(", ");
    let [.., before, last] = marginals else {
        return format!("Marginal CPU per event: {steps}. Too few N to judge whether it stays flat (target: CPU linear in events).");
    };
    let ratio = last.us / before.us;
    let judged = if ratio <= 1.25 {
        format!("the last step's is {ratio:.2}× the one before: flat within 25 % or falling, so CPU grows linearly in events or slower (target: met)")
    } else if last.us - before.us <= last.error_us + before.error_us {
        format!(
            "the last step's is {ratio:.2}× the one before, a difference within the 10 ms steps of the CPU figures \
             (target: not decided by this run; a larger N would tell)"
        )
    } else {
        format!("the last step's is {ratio:.2}× the one before: CPU grows faster than the events (target: **missed**)")
    };
    format!("Marginal CPU per event: {steps}; {judged}.")
}

fn watcher_label(sample: &LoadSample) -> String {
    match sample.watcher {
        Watcher::Rollwatch => "one `rollwatch wait`".to_owned(),
        _ => format!("{} × `kubectl rollout status`", sample.n),
    }
}

/// The discovery count, with the paths when they are few (rollwatch asks only for /version).
fn discovery(requests: &ClientRequests) -> String {
    match requests.other_paths.len() {
        0 => "0".into(),
        1..=3 => format!("{} ({})", requests.discovery(), requests.other_paths.keys().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")),
        _ => requests.discovery().to_string(),
    }
}

/// Verbs and discovery in a few words.
fn summary(requests: &ClientRequests) -> String {
    let mut parts: Vec<String> = requests.by_verb.iter().map(|(verb, count)| format!("{verb} {count}")).collect();
    match requests.other_paths.len() {
        0 => {}
        1..=3 => parts.extend(requests.other_paths.iter().map(|(path, count)| format!("`{path}` ×{count}"))),
        _ => parts.push(format!("{} discovery requests", requests.discovery())),
    }
    parts.join(", ")
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

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: usize, events: u64, cpu_s: f64) -> CpuRun {
        CpuRun { n, events, tracked: n as u64, wall_s: 10.0, cpu_s }
    }

    #[test]
    fn marginal_cpu_leaves_the_start_up_cost_out() {
        // 20 ms to start, then 100 µs per event.
        let (small, large) = (run(1, 100, 0.03), run(10, 1100, 0.13));
        assert!((small.us_per_event() - 300.0).abs() < 1e-9);
        let marginal = large.marginal(&small).unwrap();
        assert!((marginal.us - 100.0).abs() < 1e-9 && (marginal.error_us - 20.0).abs() < 1e-9);
        assert!(small.marginal(&run(1, 100, 0.02)).is_none(), "no extra events, no marginal");
    }

    fn step(us: f64, error_us: f64) -> Marginal {
        Marginal { from: 1, to: 10, us, error_us }
    }

    #[test]
    fn linearity_is_judged_on_the_last_two_steps() {
        assert!(linearity(&[step(150.0, 1.0), step(110.0, 1.0)]).contains("(target: met)"));
        assert!(linearity(&[step(100.0, 1.0), step(200.0, 1.0)]).contains("(target: **missed**)"));
        assert!(linearity(&[step(100.0, 80.0), step(200.0, 30.0)]).contains("not decided"));
        assert!(linearity(&[step(100.0, 1.0)]).contains("Too few N"));
    }

    #[test]
    fn latencies_in_ms_below_10_s() {
        assert_eq!((latency(52).as_str(), latency(-3).as_str(), latency(30_412).as_str()), ("52 ms", "-3 ms", "30.4 s"));
    }
}
