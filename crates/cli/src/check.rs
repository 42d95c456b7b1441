//! `rollwatch check`: verdicts for objects read from files, offline — e.g. the output of
//! `kubectl get deploy,rs,pods,events -o json` attached to a support case.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use jiff::Timestamp;
use rollwatch_verdict::{ObjectRef, Policy, Snapshot};

use crate::exit::Code;
use crate::policy_args::PolicyArgs;
use rollwatch_tracker::manifests;

use crate::{Global, Output, render};

/// Judge objects read from files, without a cluster.
///
/// One verdict per workload: children (ReplicaSets, Pods, ControllerRevisions) are related to
/// their owners by ownerReferences and Events to their objects, so the output of
/// `kubectl get deploy,rs,pods,events -o json` gives the whole picture.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A manifest file, a directory of them (.yaml, .yml, .json), or - for standard input:
    /// single objects, multi-document YAML, or a List as `kubectl get -o json` prints. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Read directories given with -f recursively.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Judge as of this moment (RFC 3339, e.g. 2026-01-01T12:00:00Z) instead of now: graces and
    /// the settle window (from the pods' Ready transition times) are measured up to it.
    #[arg(long, value_name = "TIMESTAMP")]
    now: Option<Timestamp>,
    #[command(flatten)]
    policy: PolicyArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    let manifests = manifests::read(&args.files, args.recursive)?;
    let policy = args.policy.policy();
    judge(global, manifests, &policy, args.now, &args.files, |_| None)
}

/// Prints the verdict of every workload among `manifests` (in `--namespace` if given), in text
/// each followed by what `annotate` has to say about it; returns the worst exit code.
pub fn judge(
    global: &Global,
    manifests: Vec<manifests::Manifest>,
    policy: &Policy,
    now: Option<Timestamp>,
    files: &[PathBuf],
    annotate: impl Fn(&ObjectRef) -> Option<String>,
) -> anyhow::Result<Code> {
    let mut snapshot = Snapshot::new();
    for manifest in manifests {
        snapshot.upsert(manifest.object).with_context(|| manifest.origin.to_string())?;
    }
    let workloads: Vec<_> = snapshot.workloads().into_iter().filter(|object| global.namespace.is_none() || object.namespace == global.namespace).collect();
    if workloads.is_empty() {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        match &global.namespace {
            Some(namespace) => bail!("{}: no objects to check in namespace {namespace}", files.join(", ")),
            None => bail!("{}: no objects to check", files.join(", ")),
        }
    }
    let now = now.unwrap_or_else(Timestamp::now);
    let mut outcome = Code::Ready;
    let mut out = std::io::stdout().lock();
    for object in workloads {
        let verdict = snapshot.verdict(&object, policy, now);
        outcome = outcome.worst(Code::from(verdict.state));
        let line = match global.output {
            Output::Text => render::text(&object, &verdict, now),
            Output::Json | Output::Yaml => render::document(global.output, &render::verdict_document(&object, &verdict, now)),
            Output::Name if verdict.state == rollwatch_verdict::State::Ready => crate::sanitize::inline(&object.to_string()),
            Output::Name => continue,
        };
        writeln!(out, "{line}").context("cannot write to standard output")?;
        if let Some(note) = annotate(&object).filter(|_| global.output == Output::Text) {
            writeln!(out, "{note}").context("cannot write to standard output")?;
        }
    }
    Ok(outcome)
}
