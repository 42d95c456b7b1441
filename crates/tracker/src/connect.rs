//! Connecting to a cluster the way kubectl does: a kubeconfig file (or `$KUBECONFIG`, or
//! `~/.kube/config`), an optional context, and the context's namespace as the default.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::Error;

/// Sent with every request, as kubectl sends `kubectl/<version>`: kube's client sends none, and
/// without one the API server's audit log and metrics cannot tell rollwatch from other clients.
const USER_AGENT: &str = concat!("rollwatch/", env!("CARGO_PKG_VERSION"));

/// Where the cluster is: kubectl's `--kubeconfig` and `--context`.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// A client for the cluster and the namespace its context names (`default` if none).
pub async fn connect(options: &ClusterOptions) -> Result<(kube::Client, String), Error> {
    let (config, namespace) = config(options).await?;
    Ok((client(config)?, namespace))
}

/// The client's settings for the cluster, and the namespace its context names.
pub(crate) async fn config(options: &ClusterOptions) -> Result<(kube::Config, String), Error> {
    // kube's client needs a TLS backend chosen before it is built; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = match &options.kubeconfig {
        Some(path) => read_kubeconfig(path)?,
        None => Kubeconfig::read().map_err(|e| Error::access(format!("reading kubeconfig: {e}")))?,
    };
    let kube_options = KubeConfigOptions { context: options.context.clone(), ..Default::default() };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options).await.map_err(|e| Error::access(format!("loading kubeconfig: {e}")))?;
    config.headers.push((http::header::USER_AGENT, http::HeaderValue::from_static(USER_AGENT)));
    // kube's client retries 429, 503 and 504 on its own, up to 15 times with a back-off growing
    // toward 1000 s, unseen: a throttling storm hung each request until rollwatch's 70 s bound
    // and ended as "no answer". The one retry policy is rollwatch's own (`retry`), which says why
    // it gave up; watches restart themselves.
    config.default_retry = false;
    let namespace = config.default_namespace.clone();
    Ok((config, namespace))
}

pub(crate) fn client(config: kube::Config) -> Result<kube::Client, Error> {
    kube::Client::try_from(config).map_err(|e| Error::from_kube("creating the cluster client", &e))
}

/// Reads a kubeconfig path, or a list of them joined by `:` as in `$KUBECONFIG` (merged, the
/// first file winning, as kubectl does).
fn read_kubeconfig(paths: &std::path::Path) -> Result<Kubeconfig, Error> {
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(paths.as_os_str()).filter(|p| !p.as_os_str().is_empty()) {
        let read = Kubeconfig::read_from(&path).map_err(|e| Error::access(format!("reading kubeconfig {}: {e}", path.display())))?;
        merged = Some(match merged {
            Some(first) => first.merge(read).map_err(|e| Error::access(format!("merging kubeconfig {}: {e}", path.display())))?,
            None => read,
        });
    }
    merged.ok_or_else(|| Error::access(format!("no kubeconfig file in {:?}", paths.display().to_string())))
}

/// Fails with an access error unless the API server answers (and lets us in); a server that
/// throttles or is briefly unavailable is asked again, as every later request is.
pub async fn check_reachable(client: &kube::Client) -> Result<(), Error> {
    crate::retry::retrying(|| client.apiserver_version()).await.map(drop).map_err(|e| Error::from_kube("contacting the API server", &e).into_access())
}

impl Error {
    /// Any failure to get the server's version means we cannot use the cluster.
    fn into_access(self) -> Self {
        Error::access(self.message)
    }
}
