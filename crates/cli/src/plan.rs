//! `rollwatch plan`: how long each rollout in the manifests should take at the very least, before
//! anything is applied, and whether a `--timeout` leaves room for it.
//!
//! Exit codes: 0 when every workload could be estimated — also when the timeout is shorter than
//! an estimate: that is a warning on stderr (and `timeout_shorter_than_estimate` in JSON), since
//! nothing has failed and a plan must not break a pipeline that only prints it; 2 for bad input
//! (unreadable file, invalid field, a DaemonSet without `--nodes`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use rollwatch_verdict::estimate::{Assumptions, Estimate, EstimateError, estimate};
use serde_json::json;

use crate::exit::Code;
use crate::track_args::parse_humantime;
use rollwatch_tracker::manifests;

use crate::sanitize::{self, inline};
use crate::{Global, Output};

/// Estimate the minimum rollout time of each Deployment, StatefulSet and DaemonSet in manifests.
///
/// The estimate replays the controllers' scaling decisions (maxSurge / maxUnavailable with
/// Kubernetes' rounding, StatefulSet partitions, DaemonSet nodes) with the pods' readiness probe
/// timings and minReadySeconds. It is a minimum: image pulls, slow starts and failing probes only
/// add to it. Other objects in the manifests are skipped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A manifest file, a directory of them (.yaml, .yml, .json), or - for standard input.
    /// Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Read directories given with -f recursively.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// The timeout you intend to wait with: warns when a rollout needs longer than it.
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime)]
    timeout: Option<humantime::Duration>,
    /// Nodes a DaemonSet runs on (needed to estimate DaemonSets).
    #[arg(long, value_name = "N")]
    nodes: Option<u32>,
    /// Assumed time from a pod's creation until its containers run (scheduling, image pull,
    /// start); the manifest cannot tell it.
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime, default_value_t = Assumptions::default().pod_start.into())]
    pod_start: humantime::Duration,
    /// Assumed time for an old pod to terminate, where the controller waits for it (StatefulSet,
    /// DaemonSet, Recreate).
    #[arg(long, value_name = "DURATION", value_parser = parse_humantime, default_value_t = Assumptions::default().pod_termination.into())]
    pod_termination: humantime::Duration,
}

/// One workload's outcome: an estimate, or why its rollout has no duration (OnDelete).
enum Planned {
    Estimated(Estimate),
    NoRollout { workload: String, why: String },
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let assumptions = Assumptions { pod_start: args.pod_start.into(), pod_termination: args.pod_termination.into(), nodes: args.nodes };
    // Everything is estimated before anything is printed: bad input prints nothing but the error.
    let mut planned = Vec::new();
    for manifest in manifests::read(&args.files, args.recursive)? {
        let outcome = match estimate(&manifest.object, &assumptions) {
            Ok(estimate) => Planned::Estimated(estimate),
            Err(EstimateError::UnsupportedKind { .. }) => continue,
            Err(error @ EstimateError::OnDelete { .. }) => Planned::NoRollout { workload: workload_name(&manifest.object), why: error.to_string() },
            Err(error @ EstimateError::NodeCountMissing { .. }) => {
                bail!("{}: {error}: pass --nodes N", manifest.origin)
            }
            Err(error) => bail!("{}: {error}", manifest.origin),
        };
        planned.push(outcome);
    }
    if planned.is_empty() {
        let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
        bail!("{}: no Deployment, StatefulSet or DaemonSet to plan", files.join(", "));
    }
    let timeout: Option<Duration> = args.timeout.map(Into::into);
    let mut out = std::io::stdout().lock();
    for outcome in &planned {
        let text = match (outcome, global.output) {
            (Planned::Estimated(estimate), Output::Text) => sanitize::lines(&shown(estimate).render_text()),
            (Planned::Estimated(estimate), Output::Json) => json_line(estimate, timeout),
            (Planned::NoRollout { why, .. }, Output::Text) => format!("{}\n", inline(why)),
            (Planned::NoRollout { workload, why }, Output::Json) => {
                format!("{}\n", sanitize::json(&json!({"workload": workload, "estimable": false, "reason": why})))
            }
            // Refused at the first: nothing was printed.
            (_, Output::Name) => bail!("plan prints estimates, not objects: use -o text or -o json"),
        };
        out.write_all(text.as_bytes()).context("cannot write to standard output")?;
    }
    if let Some(timeout) = timeout {
        for outcome in &planned {
            if let Planned::Estimated(estimate) = outcome
                && let Some(advice) = shown(estimate).timeout_advice(timeout)
            {
                eprintln!("warning: {}", sanitize::lines(&advice));
            }
        }
    }
    Ok(Code::Ready)
}

/// The estimate as text shows it: the workload's name comes from a manifest nobody has validated
/// yet, so it is escaped where it is written (JSON keeps it exact).
fn shown(estimate: &Estimate) -> Estimate {
    Estimate { workload: inline(&estimate.workload), ..estimate.clone() }
}

fn json_line(estimate: &Estimate, timeout: Option<Duration>) -> String {
    let mut line = serde_json::to_value(estimate).expect("an estimate serializes");
    line["estimable"] = json!(true);
    if let Some(timeout) = timeout {
        line["timeout_seconds"] = json!(timeout.as_secs_f64());
        line["timeout_shorter_than_estimate"] = json!(estimate.timeout_advice(timeout).is_some());
    }
    format!("{}\n", sanitize::json(&line))
}

/// `Kind/name` as the estimate names workloads, for those it cannot estimate.
fn workload_name(object: &serde_json::Value) -> String {
    let field = |pointer: &str| object.pointer(pointer).and_then(|v| v.as_str()).unwrap_or("?").to_owned();
    format!("{}/{}", field("/kind"), field("/metadata/name"))
}
