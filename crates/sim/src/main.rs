//! `rollwatch-sim`: registers simulated nodes, drives the pods the scheduler
//! binds to them through their lifecycles, and serves their container logs.
use clap::Parser;
use rollwatch_sim::{driver, events, logs, nodes, worker};
use std::sync::Arc;

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
    /// First CrashLoopBackOff (and image pull back-off) delay; doubles per restart up to 300s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    crash_backoff_base: std::time::Duration,
    /// Most API writes (status patches, events, deletes, config reads) in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent_writes: u32,
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
    let log_store = logs::LogStore::default();
    let log_server = tokio::spawn(logs::serve(log_store.clone(), args.port));
    let capacity = nodes::Capacity { cpu: args.cpu, memory: args.memory, pods: args.max_pods };
    let node_names: std::collections::HashSet<String> = (0..args.nodes).map(|i| format!("{}{i}", args.node_prefix)).collect();
    for name in &node_names {
        nodes::register(&client, name, &capacity, args.port).await?;
    }
    let writes = Arc::new(tokio::sync::Semaphore::new(args.max_concurrent_writes as usize));
    let ctx = Arc::new(worker::Context {
        recorder: events::Recorder::new(client.clone(), writes.clone()),
        client,
        logs: log_store,
        writes,
        ips: Default::default(),
        backoff_base: args.crash_backoff_base,
    });
    let pod_driver = tokio::spawn(driver::run(ctx, node_names));
    eprintln!("rollwatch-sim ready: {} nodes", args.nodes);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        result = log_server => result??,
        result = pod_driver => anyhow::bail!("the pod driver stopped: {result:?}"),
    }
    tracing::info!("shutting down");
    Ok(())
}
