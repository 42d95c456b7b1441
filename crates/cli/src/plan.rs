//! `rollwatch plan`: how long each rollout in the manifests should take at the very least, before
//! anything is applied, and whether a `--timeout` leaves room for it.
//!
//! With `--live` it also tells whether each rollout's first wave of new pods fits the nodes'
//! free allocatable (allocatable minus the requests of the pods bound to them), read from the
//! cluster: a rollout that cannot even start is seen before anything is applied.
//!
//! Exit codes: 0 when every workload could be estimated — also when the timeout is shorter than
//! an estimate or a first wave does not fit: those are warnings on stderr (and
//! `timeout_shorter_than_estimate`, `first_wave_fits` in JSON), since nothing has failed and a
//! plan must not break a pipeline that only prints it; 2 for bad input (unreadable file, invalid
//! field, a DaemonSet without `--nodes` or `--live`); 4 when `--live` cannot read the nodes
//! and pods.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use rollwatch_tracker::{Error, manifests, room};
use rollwatch_verdict::Manifest;
use rollwatch_verdict::capacity::{self, Resources, WaveFit};
use rollwatch_verdict::estimate::{Assumptions, Estimate, EstimateError, estimate};
use serde_json::json;

use crate::exit::Code;
use crate::run::command;
use crate::track_args::parse_humantime;

use crate::sanitize::{self, inline};
use crate::{Global, Output, render};

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
    /// Nodes a DaemonSet runs on (needed to estimate DaemonSets without --live).
    #[arg(long, value_name = "N")]
    nodes: Option<u32>,
    /// Also read the live cluster's nodes and pods (kubeconfig) and tell whether each rollout's
    /// first wave of new pods fits the nodes' free allocatable; a DaemonSet runs on all of its
    /// nodes. (Not `--cluster`: that is kubectl's flag naming the kubeconfig's cluster.)
    #[arg(long)]
    live: bool,
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
    let manifests = manifests::read(&args.files, args.recursive)?;
    if !args.live {
        let planned = plan(&args, &manifests, args.nodes)?;
        print(global, &args, &planned, None)?;
        return Ok(Code::Ready);
    }
    command(global, Ok(manifests), |session, manifests| async move {
        let free = room::free_room(session.tracker.client()).await?;
        let nodes = args.nodes.or(u32::try_from(free.len()).ok());
        let planned = plan(&args, &manifests, nodes).map_err(|error| Error::input(error.to_string()))?;
        print(global, &args, &planned, Some(&free)).map_err(|error| Error::input(error.to_string()))?;
        Ok(Code::Ready)
    })
}

/// Every workload's estimate (with its manifest), before anything is printed: bad input prints
/// nothing but the error.
fn plan<'m>(args: &Args, manifests: &'m [Manifest], nodes: Option<u32>) -> anyhow::Result<Vec<(&'m Manifest, Planned)>> {
    let assumptions = Assumptions { pod_start: args.pod_start.into(), pod_termination: args.pod_termination.into(), nodes };
    let mut planned = Vec::new();
    for manifest in manifests {
        let outcome = match estimate(&manifest.object, &assumptions) {
            Ok(estimate) => Planned::Estimated(estimate),
            Err(EstimateError::UnsupportedKind { .. }) => continue,
            Err(error @ EstimateError::OnDelete { .. }) => Planned::NoRollout { workload: workload_name(&manifest.object), why: error.to_string() },
            Err(error @ EstimateError::NodeCountMissing { .. }) => {
                bail!("{}: {error}: pass --nodes N or --live", manifest.origin)
            }
            Err(error) => bail!("{}: {error}", manifest.origin),
        };
        planned.push((manifest, outcome));
    }
    if planned.is_empty() {
        let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
        bail!("{}: no Deployment, StatefulSet or DaemonSet to plan", files.join(", "));
    }
    Ok(planned)
}

/// Prints the estimates, and with the nodes' `free` room whether each first wave fits; warns on
/// stderr about timeouts shorter than an estimate and first waves that do not fit.
fn print(global: &Global, args: &Args, planned: &[(&Manifest, Planned)], free: Option<&BTreeMap<String, Resources>>) -> anyhow::Result<()> {
    let mut fits = Vec::new();
    for (manifest, outcome) in planned {
        let fit = match (outcome, free) {
            (Planned::Estimated(estimate), Some(free)) => Some(
                capacity::first_wave_fit(&manifest.object, estimate, free).map_err(|problem| anyhow::anyhow!("{}: field {problem}", manifest.describe()))?,
            ),
            _ => None,
        };
        fits.push(fit);
    }
    let timeout: Option<Duration> = args.timeout.map(Into::into);
    let mut out = std::io::stdout().lock();
    for ((_, outcome), fit) in planned.iter().zip(&fits) {
        let text = match (outcome, global.output) {
            (Planned::Estimated(estimate), Output::Text) => {
                let fit = fit.as_ref().map(|fit| format!("  first wave: {}\n", inline(&fit.message))).unwrap_or_default();
                format!("{}{fit}", sanitize::lines(&shown(estimate).render_text()))
            }
            (Planned::Estimated(estimate), Output::Json | Output::Yaml) => {
                format!("{}\n", render::document(global.output, &estimate_document(estimate, timeout, fit.as_ref())))
            }
            (Planned::NoRollout { why, .. }, Output::Text) => format!("{}\n", inline(why)),
            (Planned::NoRollout { workload, why }, Output::Json | Output::Yaml) => {
                format!("{}\n", render::document(global.output, &json!({"workload": workload, "estimable": false, "reason": why})))
            }
            // Refused at the first: nothing was printed.
            (_, Output::Name) => bail!("plan prints estimates, not objects: use -o text, -o json or -o yaml"),
        };
        out.write_all(text.as_bytes()).context("cannot write to standard output")?;
    }
    for fit in fits.iter().flatten().filter(|fit| !fit.fits) {
        eprintln!("warning: {}", inline(&fit.message));
    }
    if let Some(timeout) = timeout {
        for (_, outcome) in planned {
            if let Planned::Estimated(estimate) = outcome
                && let Some(advice) = shown(estimate).timeout_advice(timeout)
            {
                eprintln!("warning: {}", sanitize::lines(&advice));
            }
        }
    }
    Ok(())
}

/// The estimate as text shows it: the workload's name comes from a manifest nobody has validated
/// yet, so it is escaped where it is written (JSON keeps it exact).
fn shown(estimate: &Estimate) -> Estimate {
    Estimate { workload: inline(&estimate.workload), ..estimate.clone() }
}

fn estimate_document(estimate: &Estimate, timeout: Option<Duration>, fit: Option<&WaveFit>) -> serde_json::Value {
    let mut line = serde_json::to_value(estimate).expect("an estimate serializes");
    line["estimable"] = json!(true);
    if let Some(fit) = fit {
        line["first_wave_fits"] = json!(fit.fits);
        line["first_wave"] = json!(fit.message);
    }
    if let Some(timeout) = timeout {
        line["timeout_seconds"] = json!(timeout.as_secs_f64());
        line["timeout_shorter_than_estimate"] = json!(estimate.timeout_advice(timeout).is_some());
    }
    line
}

/// `Kind/name` as the estimate names workloads, for those it cannot estimate.
fn workload_name(object: &serde_json::Value) -> String {
    let field = |pointer: &str| object.pointer(pointer).and_then(|v| v.as_str()).unwrap_or("?").to_owned();
    format!("{}/{}", field("/kind"), field("/metadata/name"))
}
