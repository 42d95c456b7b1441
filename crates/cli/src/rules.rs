//! `rollwatch rules`: the readiness rules of custom resources in force, and `rules test` to try a
//! rules file on saved objects (`kubectl get ... -o yaml`) while writing it.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;
use rollwatch_tracker::manifests;
use rollwatch_verdict::rules::RuleSet;
use rollwatch_verdict::{ObjectRef, Policy};
use serde_json::json;

use crate::exit::Code;
use crate::policy_args::{load_rules, rules_in_force};
use crate::sanitize::inline;
use crate::{Global, Output, check};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Rules files to list with the built-in ones, as the tracking commands take them.
    #[arg(long = "rules", value_name = "FILE", value_parser = load_rules)]
    rules: Vec<Arc<RuleSet>>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Verdicts of saved objects by the rules of FILE (over the built-in ones), each with the
    /// rule that judged it; the exit code is `check`'s.
    #[command(after_help = crate::exit::help())]
    Test(TestArgs),
}

#[derive(Debug, clap::Args)]
struct TestArgs {
    /// The rules file to try.
    #[arg(value_name = "FILE", value_parser = load_rules)]
    rules: Arc<RuleSet>,
    /// Objects to judge: files, directories, - for standard input.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Read directories given with -f recursively.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Judge as of this moment (RFC 3339) instead of now.
    #[arg(long, value_name = "TIMESTAMP")]
    now: Option<Timestamp>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<Code> {
    match args.command {
        None => list(global, &rules_in_force(&args.rules)),
        Some(Command::Test(test)) => try_rules(global, test),
    }
}

/// One rule per line (`group/Kind  origin`) with its expressions indented, or one JSON line or
/// YAML document each.
fn list(global: &Global, rules: &RuleSet) -> anyhow::Result<Code> {
    let mut out = std::io::stdout().lock();
    for rule in rules.list() {
        let line = match global.output {
            Output::Text => {
                let mut text = format!("{}  ({})", rule.name(), inline(&rule.origin));
                for (field, expression) in rule.expressions() {
                    text.push_str(&format!("\n  {field}: {}", inline(&one_line(expression))));
                }
                text
            }
            Output::Name => rule.name(),
            Output::Json | Output::Yaml => {
                let expressions: serde_json::Map<String, serde_json::Value> = rule.expressions().into_iter().map(|(f, e)| (f.to_string(), json!(e))).collect();
                crate::render::document(global.output, &json!({"rule": rule.name(), "origin": rule.origin, "expressions": expressions}))
            }
        };
        writeln!(out, "{line}").context("cannot write to standard output")?;
    }
    Ok(Code::Ready)
}

/// An expression folded over several lines of YAML, on one line.
fn one_line(expression: &str) -> String {
    expression.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn try_rules(global: &Global, args: TestArgs) -> anyhow::Result<Code> {
    let rules = Arc::new(RuleSet::builtin().with_rules(&args.rules));
    let manifests = manifests::read(&args.files, args.recursive)?;
    let mut judged_by = HashMap::new();
    for manifest in &manifests {
        let object = &manifest.object;
        let own = rollwatch_verdict::rules::check_annotations(object)?.is_some();
        let rule = match (own, rules.rule_for(object)) {
            (true, Some(rule)) => format!("its annotations over rule {} ({})", rule.name(), rule.origin),
            (true, None) => "its annotations".to_string(),
            (false, Some(rule)) => format!("rule {} ({})", rule.name(), rule.origin),
            (false, None) => "no rule: the kind's own viewer or the generic conditions".to_string(),
        };
        if let Some(object) = ObjectRef::of_object(object) {
            judged_by.insert(object, rule);
        }
    }
    let policy = Policy { rules, ..Policy::default() };
    check::judge(global, manifests, &policy, args.now, &args.files, |object| judged_by.get(object).map(|rule| format!("  judged by {}", inline(rule))))
}
