//! The rollwatch command line: presentation over the tracker and the verdict engine.

mod apply;
mod exit_code;
mod render;
mod run;
mod set_image;
mod status;
mod targets;
mod track_args;
mod wait;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Is my rollout really done — and if not, exactly why not?
#[derive(Parser)]
#[command(name = "rollwatch", version, about, after_help = exit_code::HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes, as kubectl names them.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of the objects (default: the context's namespace).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
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

#[derive(Subcommand)]
enum Command {
    /// Apply manifests (server-side, after a dry run of all of them), then track every applied
    /// object until all are ready or one fails.
    Apply(apply::Args),
    /// Track existing objects until all are ready (or deleted) or one fails.
    Wait(wait::Args),
    /// One snapshot of the verdicts, without waiting; the exit code tells.
    Status(status::Args),
    /// Change objects, then track them.
    Set {
        #[command(subcommand)]
        command: set_image::SetCommand,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => exit_code::USAGE.into(),
            };
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "error".into()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return exit_code::FAILED.into();
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Apply(args) => apply::run(&cli.global, args).await,
            Command::Wait(args) => wait::run(&cli.global, args).await,
            Command::Status(args) => status::run(&cli.global, args).await,
            Command::Set { command: set_image::SetCommand::Image(args) } => set_image::run(&cli.global, args).await,
        }
    });
    // Feeds still blocked on a socket must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code.into()
}
