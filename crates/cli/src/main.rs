//! The rollwatch command line: presentation over the tracker and the verdict engine.
//!
//! This file only declares the global flags and dispatches; each command lives in its own module
//! exposing `Args` and `run`, and returns an exit [`Code`](exit::Code).

mod check;
mod exit;
mod manifests;
mod plan;
mod policy_args;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Is my rollout really done — and if not, exactly why not?
#[derive(Debug, Parser)]
#[command(name = "rollwatch", version, after_help = exit::help())]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts, in kubectl's spelling.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace: objects are looked up in it, and `check` shows only the objects in it.
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Output format: plain lines (text) or one JSON object per line (json).
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(after_help = exit::help())]
    Check(check::Args),
    #[command(after_help = exit::help())]
    Plan(plan::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => check::run(&cli.global, args),
        Command::Plan(args) => plan::run(&cli.global, args),
    };
    match outcome {
        Ok(code) => code.into(),
        // `check` can fail only on its input; commands that talk to a cluster will have to tell
        // their access errors (exit 4) apart here.
        Err(error) => {
            eprintln!("error: {error:#}");
            exit::Code::Usage.into()
        }
    }
}
