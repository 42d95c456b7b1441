//! `rollwatch-sim`: registers simulated nodes and serves their container logs.
//!
//! Not yet done: the pod lifecycle driver (see crates/sim/README.md); pods are bound
//! to the nodes by the real scheduler but are not driven to Running.
use clap::Parser;
use rollwatch_sim::{logs, nodes};

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Kubeconfig of a cluster admin.
    #[arg(long)]
    kubeconfig: std::path::PathBuf,
    /// How many nodes to register.
    #[arg(long)]
    nodes: u32,
    #[arg(long, default_value = "sim-node-")]
    node_prefix: String,
    #[arg(long, default_value = "4")]
    cpu: String,
    #[arg(long, default_value = "8Gi")]
    memory: String,
    #[arg(long, default_value_t = 110)]
    max_pods: u32,
    /// Port of the HTTPS container-log endpoint (the nodes' kubelet port).
    #[arg(long)]
    port: u16,
    /// First CrashLoopBackOff delay; doubles per restart up to 300s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    crash_backoff_base: std::time::Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    // kube's client and the log server share one TLS backend; pick it before either starts.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = kube::config::Kubeconfig::read_from(&args.kubeconfig)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    let client = kube::Client::try_from(config)?;
    let log_server = tokio::spawn(logs::serve(logs::LogStore::default(), args.port));
    let capacity = nodes::Capacity { cpu: args.cpu, memory: args.memory, pods: args.max_pods };
    for index in 0..args.nodes {
        nodes::register(&client, &format!("{}{index}", args.node_prefix), &capacity, args.port).await?;
    }
    eprintln!("rollwatch-sim ready: {} nodes", args.nodes);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        result = log_server => result??,
    }
    tracing::info!("shutting down");
    Ok(())
}
