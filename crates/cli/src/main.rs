//! The rollwatch command line: presentation over the tracker and the verdict engine.
//!
//! This file only declares the global flags and dispatches; each command lives in its own module
//! exposing `Args` and `run`, and returns an exit [`Code`](exit::Code).

mod apply;
mod check;
mod completion;
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
mod timeline;
mod track_args;
mod undo;
mod wait;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

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
    /// Path to the kubeconfig file (default: the files of $KUBECONFIG merged, then
    /// ~/.kube/config; with none, a pod's service account).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Connection")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Connection")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use instead of the context's.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Connection")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use instead of the context's.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Connection")]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(long, short = 's', global = true, value_name = "URL", help_heading = "Connection")]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, global = true, value_name = "TOKEN", help_heading = "Connection")]
    pub token: Option<String>,
    /// Path to a CA certificate file for the API server's certificate.
    #[arg(long, global = true, value_name = "PATH", help_heading = "Connection")]
    pub certificate_authority: Option<PathBuf>,
    /// Do not check the API server's certificate (insecure).
    #[arg(long, global = true, help_heading = "Connection")]
    pub insecure_skip_tls_verify: bool,
    /// Username to impersonate for the operation (a user or a service account).
    #[arg(long = "as", global = true, value_name = "USER", help_heading = "Connection")]
    pub impersonate: Option<String>,
    /// Group to impersonate for the operation; repeat it for several groups.
    #[arg(long = "as-group", global = true, value_name = "GROUP", help_heading = "Connection")]
    pub impersonate_groups: Vec<String>,
    /// How long connecting to the API server may take (e.g. 10s; 0: the default, 30s).
    #[arg(long, global = true, value_name = "DURATION", value_parser = track_args::parse_duration, help_heading = "Connection")]
    pub request_timeout: Option<std::time::Duration>,
    /// The namespace of the objects (default: the context's namespace); `check` shows only
    /// the objects in it.
    #[arg(short = 'n', long, global = true, help_heading = "Global")]
    pub namespace: Option<String>,
    /// Output format: text (live progress on a terminal, plain lines otherwise), json (one
    /// JSON object per line), yaml (the same objects as YAML documents separated by ---) or name
    /// (the objects that made it, as KIND/NAME).
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Text, help_heading = "Global")]
    pub output: Output,
    /// How text output shows progress: auto (live lines when standard output is a terminal,
    /// else plain), tty (live lines; they need a terminal) or plain (timestamped lines, for CI
    /// systems that give jobs a pseudo-terminal their logs do not render).
    #[arg(long, global = true, value_enum, env = "ROLLWATCH_PROGRESS", default_value_t = Progress::Auto, help_heading = "Global")]
    pub progress: Progress,
}

impl Global {
    /// Where the cluster is and who we are, from the connection flags.
    pub fn cluster_options(&self) -> rollwatch_tracker::ClusterOptions {
        rollwatch_tracker::ClusterOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            server: self.server.clone(),
            token: self.token.clone(),
            certificate_authority: self.certificate_authority.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            impersonate: self.impersonate.clone(),
            impersonate_groups: self.impersonate_groups.clone(),
            request_timeout: self.request_timeout.filter(|timeout| !timeout.is_zero()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Tty,
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
    /// The documents of `json`, each as YAML, separated by `---` as kubectl's `-o yaml` prints
    /// several objects.
    Yaml,
    /// Only the names (`deployment/web`) of the objects that made it, one per line, as
    /// kubectl's `-o name` prints them, to feed other commands.
    Name,
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
    /// Print a shell completion script: `source <(rollwatch completion bash)`, or into the
    /// shell's completion directory.
    Completion(completion::CompletionArgs),
    /// Write man pages, generated from this command line, into a directory.
    Man(completion::ManArgs),
    /// The readiness rules of custom resources in force (built-in and from --rules files), or
    /// `rules test FILE -f OBJECTS`: verdicts of saved objects by the rules of FILE.
    #[command(after_help = exit::help())]
    Rules(rules::Args),
    /// Draw a saved `-o json` run as one self-contained HTML file: `rollwatch timeline RUN.jsonl
    /// -o FILE.html` (its -o names the file; see `rollwatch timeline --help`).
    #[command(disable_help_flag = true)]
    Timeline(Passed),
}

/// A command's arguments, passed on as they are to its own parser.
#[derive(Debug, clap::Args)]
struct Passed {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<std::ffi::OsString>,
}

/// Many small objects replaced with each watch event: mimalloc keeps that cheap (see the
/// workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    end_quietly_on_closed_pipe();
    log_diagnostics_if_asked();
    // `timeline` has its own `-o FILE.html`, which the global `-o FORMAT` would refuse.
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|command| command == "timeline") {
        return timeline::command::run(args).into();
    }
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
        Command::Completion(args) => (completion::completion(Cli::command(), &cli.global, args), exit::Code::Usage),
        Command::Man(args) => (completion::man(Cli::command(), &cli.global, args), exit::Code::Usage),
        // `rules` reads only files too.
        Command::Rules(args) => (rules::run(&cli.global, args), exit::Code::Usage),
        // Reached with global flags before `timeline`; they mean nothing to it.
        Command::Timeline(passed) => (Ok(timeline::command::run(passed.args)), exit::Code::Usage),
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
