//! The rollwatch command line: presentation over the tracker and the verdict engine.
//!
//! This file only declares the global flags and dispatches; each command lives in its own module
//! exposing `Args` and `run`, and returns an exit [`Code`](exit::Code).

mod apply;
mod check;
mod exit;
mod history;
mod pause;
mod plan;
mod policy_args;
mod render;
mod report;
mod restart;
mod resume;
mod rules;
mod run;
mod sanitize;
mod set_image;
mod signals;
mod status;
mod targets;
mod track_args;
mod undo;
mod wait;
mod workload;

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
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace of the objects (default: the context's namespace); `check` shows only
    /// the objects in it.
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Output format: text (live progress on a terminal, plain lines otherwise) or json (one
    /// JSON object per line).
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
    /// Apply manifests (server-side, after a dry run of all of them), then track every applied
    /// object until all are ready or one fails.
    #[command(after_help = exit::help())]
    Apply(apply::Args),
    /// Track existing objects until all are ready (or deleted) or one fails.
    #[command(after_help = exit::help())]
    Wait(wait::Args),
    /// One snapshot of the verdicts, without waiting: the exit code tells.
    #[command(after_help = exit::help())]
    Status(status::Args),
    /// Verdicts for objects read from files (e.g. `kubectl get ... -o json`), without a cluster.
    #[command(after_help = exit::help())]
    Check(check::Args),
    /// Change objects, then track them.
    Set {
        #[command(subcommand)]
        command: set_image::SetCommand,
    },
    /// Each workload's minimum rollout time and its waves, from manifests, before applying them.
    #[command(after_help = exit::help())]
    Plan(plan::Args),
    /// Revisions of a Deployment, StatefulSet or DaemonSet (age, images, change cause, pods),
    /// one revision's pod template, or what changed between two.
    #[command(after_help = exit::help())]
    History(history::Args),
    /// Return a workload to an earlier revision, then track the rollback.
    #[command(after_help = exit::help())]
    Undo(undo::Args),
    /// Pause a Deployment's rollout where it is.
    #[command(after_help = exit::help())]
    Pause(pause::Args),
    /// Resume a paused Deployment, then track its rollout.
    #[command(after_help = exit::help())]
    Resume(resume::Args),
    /// Replace all pods of a workload with a rollout, then track it.
    #[command(after_help = exit::help())]
    Restart(restart::Args),
    /// The readiness rules of custom resources in force (built-in and from --rules files), or
    /// `rules test FILE -f OBJECTS`: verdicts of saved objects by the rules of FILE.
    #[command(after_help = exit::help())]
    Rules(rules::Args),
}

fn main() -> ExitCode {
    end_quietly_on_closed_pipe();
    log_diagnostics_if_asked();
    let cli = Cli::parse();
    let (outcome, code_on_error) = match cli.command {
        // `check` reads only files: whatever stops it is its input.
        Command::Check(args) => (check::run(&cli.global, args), exit::Code::Usage),
        Command::Apply(args) => (apply::run(&cli.global, args), exit::Code::Failed),
        Command::Wait(args) => (wait::run(&cli.global, args), exit::Code::Failed),
        Command::Status(args) => (status::run(&cli.global, args), exit::Code::Failed),
        Command::Set { command: set_image::SetCommand::Image(args) } => (set_image::run(&cli.global, args), exit::Code::Failed),
        // `plan` reads only files too.
        Command::Plan(args) => (plan::run(&cli.global, args), exit::Code::Usage),
        Command::History(args) => (history::run(&cli.global, args), exit::Code::Failed),
        Command::Undo(args) => (undo::run(&cli.global, args), exit::Code::Failed),
        Command::Pause(args) => (pause::run(&cli.global, args), exit::Code::Failed),
        Command::Resume(args) => (resume::run(&cli.global, args), exit::Code::Failed),
        Command::Restart(args) => (restart::run(&cli.global, args), exit::Code::Failed),
        // `rules` reads only files too.
        Command::Rules(args) => (rules::run(&cli.global, args), exit::Code::Usage),
    };
    match outcome {
        Ok(code) => code.into(),
        Err(error) => {
            eprintln!("error: {}", sanitize::lines(&format!("{error:#}")));
            code_on_error.into()
        }
    }
}

/// `RUST_LOG=rollwatch_tracker=debug` (or any tracing filter) writes diagnostics to stderr, e.g.
/// how many watch events the feeds delivered; without it nothing is logged, so output stays clean.
fn log_diagnostics_if_asked() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        use std::io::IsTerminal;
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).with_env_filter(filter).init();
    }
}

/// `rollwatch ... | head` must end the way other command-line tools do when the reader goes
/// away: Rust ignores SIGPIPE, which turns the next write into a panic in `println!`; the
/// default disposition ends the process silently instead.
fn end_quietly_on_closed_pipe() {
    // SAFETY: called first thing in `main`, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
