//! `bench`: rollwatch side by side with kubectl on the local control plane (issue #6): failure and
//! success detection latency, then API load, memory and CPU for N Deployments. A benchmark with a
//! report, not a test: nothing here asserts speed.
//!
//! Run it through `scripts/bench`, which builds what it needs, starts its own cluster instance
//! (the simulator logging its status writes, the API server its audit log), sets the environment
//! below and always stops the instance. Writes its section of BENCHMARKS.md (between its own markers only).
//!
//! Environment: `KUBECONFIG`, `ROLLWATCH_BIN`, `SIM_LOG` (the simulator's log), `AUDIT_LOG` (the
//! API server's audit log, for per-client request counts), `BENCHMARKS`
//! (the report file), `BENCH_REPS` (repetitions, default 5), `BENCH_PARALLEL` (failing
//! rollouts of each kind started at once per repetition, default 4), `VERDICT_THROUGHPUT` (the verdict
//! engine's figure, measured by `cargo bench -p rollwatch-verdict` before the cluster starts),
//! `BENCH_LOAD_NS` (the N of the load runs, default 1,10,100), `BENCH_KUBECTL_MAX` (the largest N
//! given one kubectl process per Deployment, default 100: each takes tens of MB), `BENCH_ONLY`
//! (`successes`: only the success detection samples, their table printed on standard output and
//! BENCHMARKS.md left alone — a few minutes instead of the whole run).

mod audit;
mod latency;
mod load;
mod metrics;
mod procs;
mod report;
mod simlog;
mod stats;

use std::path::PathBuf;

fn main() {
    let sim_log = PathBuf::from(std::env::var_os("SIM_LOG").expect("SIM_LOG (scripts/bench sets it)"));
    let out = PathBuf::from(std::env::var_os("BENCHMARKS").expect("BENCHMARKS (scripts/bench sets it)"));
    let reps: usize = env_number("BENCH_REPS").unwrap_or(5);
    let parallel: usize = env_number("BENCH_PARALLEL").unwrap_or(4).max(1);
    let only_successes = std::env::var("BENCH_ONLY").is_ok_and(|only| only == "successes");
    let latency_started = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut rollwatch_only = Vec::new();
    for rep in (0..reps).filter(|_| !only_successes) {
        let repetition = latency::failures(&sim_log, rep, parallel);
        eprintln!(
            "bench: failure detection, repetition {}: {} samples, {} of them rollwatch-only",
            rep + 1,
            repetition.samples.len(),
            repetition.rollwatch_only
        );
        for sample in &repetition.samples {
            eprintln!("bench: failure sample: {sample:?}");
        }
        failures.extend(repetition.samples);
        rollwatch_only.push(repetition.rollwatch_only);
    }
    let mut successes = Vec::new();
    for rep in 0..reps * SUCCESSES_PER_REP {
        let sample = latency::success(&sim_log, rep);
        eprintln!("bench: success detection, sample {}: {sample:?}", rep + 1);
        successes.push(sample);
    }
    let latency_minutes = latency_started.elapsed().as_secs_f64() / 60.0;
    if only_successes {
        print!("{}", report::successes_only(successes, latency_minutes));
        return;
    }
    let load_ns: Vec<usize> = std::env::var("BENCH_LOAD_NS").unwrap_or_else(|_| "1,10,100".into()).split(',').filter_map(|n| n.trim().parse().ok()).collect();
    let kubectl_max: usize = env_number("BENCH_KUBECTL_MAX").unwrap_or(100);
    let mut load = Vec::new();
    let audit = audit::AuditLog::from_env();
    load::wait_for_quiet();
    for n in load_ns {
        for watcher in [load::Watcher::None, load::Watcher::Rollwatch, load::Watcher::Kubectl] {
            if watcher == load::Watcher::Kubectl && n > kubectl_max {
                continue;
            }
            let sample = load::run(&sim_log, &audit, n, watcher);
            eprintln!("bench: load: {sample:?}");
            load.push(sample);
        }
    }
    let section = report::Section {
        verdict_throughput: std::env::var("VERDICT_THROUGHPUT").unwrap_or_else(|_| "not measured in this run".into()),
        failures,
        parallel,
        rollwatch_only,
        successes,
        latency_minutes,
        load,
        kubectl_max,
    }
    .render();
    report::splice(&out, &section);
    println!("{section}");
}

/// Success samples per repetition, one after another (so none loads the machine for another): a
/// few seconds each, and 100 with the default repetitions, the fewest whose p99 by nearest rank
/// is not simply the largest.
const SUCCESSES_PER_REP: usize = 20;

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|n| n.trim().parse().ok())
}
