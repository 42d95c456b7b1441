//! Connecting to a cluster the way kubectl does, wherever rollwatch runs:
//!
//! - a kubeconfig: `--kubeconfig` (which must exist), else the files of `$KUBECONFIG` merged
//!   (the first to set a value wins; missing files are skipped), else `~/.kube/config`;
//! - with none, inside a pod: its service account (token, CA and namespace under
//!   [`SERVICE_ACCOUNT_DIR`]) and the API server at `KUBERNETES_SERVICE_HOST`/`_PORT`;
//! - kubectl's connection flags over either (`--server`, `--token`, `--as`, ...);
//! - the proxy from `HTTPS_PROXY`/`HTTP_PROXY` (or the cluster's `proxy-url`), unless
//!   `NO_PROXY` covers the server; as in kubectl, loopback servers are never proxied.
//!
//! Every failure here is an access error (exit 4): without a client there is no rollout to judge.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext};

use crate::Error;

/// Sent with every request, as kubectl sends `kubectl/<version>`: kube's client sends none, and
/// without one the API server's audit log and metrics cannot tell rollwatch from other clients.
const USER_AGENT: &str = concat!("rollwatch/", env!("CARGO_PKG_VERSION"));

/// Where the kubelet mounts a pod's service account: `token`, `ca.crt` and `namespace`.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The context name given to a configuration made from a pod's service account or from flags alone.
const IN_CLUSTER: &str = "in-cluster";
const FROM_FLAGS: &str = "from-flags";

/// Where the cluster is and who we are: kubectl's `--kubeconfig`, `--context` and connection flags.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// The kubeconfig cluster to use instead of the context's (`--cluster`).
    pub cluster: Option<String>,
    /// The kubeconfig user to use instead of the context's (`--user`).
    pub user: Option<String>,
    /// The API server's URL (`--server`).
    pub server: Option<String>,
    /// A bearer token, replacing the user's credentials (`--token`).
    pub token: Option<String>,
    /// A CA bundle file for the server's certificate (`--certificate-authority`).
    pub certificate_authority: Option<PathBuf>,
    /// Accept any server certificate (`--insecure-skip-tls-verify`).
    pub insecure_skip_tls_verify: bool,
    /// The user to act as (`--as`).
    pub impersonate: Option<String>,
    /// The groups to act as (`--as-group`, repeated).
    pub impersonate_groups: Vec<String>,
    /// How long connecting to the API server may take (`--request-timeout`); kube's default if None.
    pub request_timeout: Option<Duration>,
}

impl ClusterOptions {
    fn overrides_cluster(&self) -> bool {
        self.server.is_some() || self.certificate_authority.is_some() || self.insecure_skip_tls_verify
    }

    fn overrides_user(&self) -> bool {
        self.token.is_some() || self.impersonate.is_some() || !self.impersonate_groups.is_empty()
    }
}

/// What the process can see of its surroundings: environment variables, the home directory and
/// the service account mount. A value of its own so that tests need not change the process's.
pub struct Surroundings<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
    pub service_account_dir: PathBuf,
}

impl Surroundings<'_> {
    /// The running process's environment, home and the kubelet's mount point.
    pub fn of_process() -> Surroundings<'static> {
        Surroundings { var: &|name| std::env::var(name).ok(), home: std::env::home_dir(), service_account_dir: PathBuf::from(SERVICE_ACCOUNT_DIR) }
    }

    /// A variable's value; an empty one counts as unset, as in kubectl.
    fn get(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|value| !value.is_empty())
    }
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
    let mut config = client_config(options, &Surroundings::of_process()).await?;
    // kube's client retries 429, 503 and 504 on its own, up to 15 times with a back-off growing
    // toward 1000 s, unseen: a throttling storm hung each request until rollwatch's 70 s bound
    // and ended as "no answer". The one retry policy is rollwatch's own (`retry`), which says why
    // it gave up; watches restart themselves.
    config.default_retry = false;
    let namespace = config.default_namespace.clone();
    Ok((config, namespace))
}

pub(crate) fn client(config: kube::Config) -> Result<kube::Client, Error> {
    kube::Client::try_from(config).map_err(|e| Error::from_kube("creating the cluster client", &e).into_access())
}

/// The client configuration kubectl would use with these flags in these surroundings.
pub async fn client_config(options: &ClusterOptions, surroundings: &Surroundings<'_>) -> Result<kube::Config, Error> {
    let (mut kubeconfig, source) = match read_kubeconfigs(options, surroundings)? {
        Some(kubeconfig) => (kubeconfig, "kubeconfig"),
        None if options.server.is_some() => (flags_only(), "--server"),
        None => match in_cluster(surroundings)? {
            Some(kubeconfig) => (kubeconfig, "the pod's service account"),
            None => return Err(Error::access(no_configuration(options, surroundings))),
        },
    };
    let selection = apply_overrides(&mut kubeconfig, options)?;
    let proxy_url = selected_cluster(&kubeconfig, &selection).and_then(|cluster| cluster.proxy_url.clone()).filter(|url| !url.is_empty());
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &selection).await.map_err(|e| Error::access(format!("loading {source}: {e}")))?;
    config.proxy_url = match proxy_url {
        Some(url) => Some(parse_proxy(&url, "the kubeconfig's proxy-url")?),
        None => proxy_from_environment(&config.cluster_url, surroundings)?,
    };
    if let Some(timeout) = options.request_timeout {
        config.connect_timeout = Some(timeout);
    }
    config.headers.push((http::header::USER_AGENT, http::HeaderValue::from_static(USER_AGENT)));
    Ok(config)
}

/// Reads `--kubeconfig` (every file listed must exist), else `$KUBECONFIG`'s files (missing ones
/// skipped, as kubectl does), else `~/.kube/config` if it exists; merged, the first file to set
/// a value winning. `None` when no file holds any configuration.
fn read_kubeconfigs(options: &ClusterOptions, surroundings: &Surroundings<'_>) -> Result<Option<Kubeconfig>, Error> {
    let (paths, must_exist): (Vec<PathBuf>, bool) = match (&options.kubeconfig, surroundings.get("KUBECONFIG")) {
        (Some(explicit), _) => (std::env::split_paths(explicit.as_os_str()).collect(), true),
        (None, Some(list)) => (std::env::split_paths(&list).collect(), false),
        (None, None) => (surroundings.home.iter().map(|home| home.join(".kube").join("config")).collect(), false),
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.iter().filter(|path| !path.as_os_str().is_empty()) {
        if !must_exist && !path.exists() {
            continue;
        }
        let read = Kubeconfig::read_from(path).map_err(|e| Error::access(format!("reading kubeconfig {}: {e}", path.display())))?;
        merged = Some(match merged {
            Some(first) => first.merge(read).map_err(|e| Error::access(format!("merging kubeconfig {}: {e}", path.display())))?,
            None => read,
        });
    }
    if must_exist && merged.is_none() {
        return Err(Error::access(format!(
            "no kubeconfig file in --kubeconfig {:?}",
            options.kubeconfig.as_deref().unwrap_or(Path::new("")).display().to_string()
        )));
    }
    // An empty file configures nothing: kubectl then looks for a service account too.
    Ok(merged.filter(|kubeconfig| must_exist || !(kubeconfig.contexts.is_empty() && kubeconfig.clusters.is_empty() && kubeconfig.current_context.is_none())))
}

/// The configuration inside a pod, as client-go builds it: the API server at
/// `KUBERNETES_SERVICE_HOST`:`KUBERNETES_SERVICE_PORT`, the service account's token file (re-read
/// as the kubelet rotates it) and CA, and `$POD_NAMESPACE` or the service account's namespace.
/// `None` outside a pod (either variable unset, or no token file).
fn in_cluster(surroundings: &Surroundings<'_>) -> Result<Option<Kubeconfig>, Error> {
    let (Some(host), Some(port)) = (surroundings.get("KUBERNETES_SERVICE_HOST"), surroundings.get("KUBERNETES_SERVICE_PORT")) else {
        return Ok(None);
    };
    let dir = &surroundings.service_account_dir;
    let token = dir.join("token");
    if !token.is_file() {
        return Ok(None);
    }
    let port: u16 = port.parse().map_err(|_| Error::access(format!("KUBERNETES_SERVICE_PORT {port:?} is not a port number")))?;
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    let ca = dir.join("ca.crt");
    let namespace = match surroundings.get("POD_NAMESPACE") {
        Some(namespace) => namespace,
        None => match std::fs::read_to_string(dir.join("namespace")) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
            _ => "default".to_string(),
        },
    };
    let cluster =
        Cluster { server: Some(format!("https://{host}:{port}")), certificate_authority: ca.is_file().then(|| ca.display().to_string()), ..Default::default() };
    let user = AuthInfo { token_file: Some(token.display().to_string()), ..Default::default() };
    Ok(Some(single_context(IN_CLUSTER, cluster, user, Some(namespace))))
}

/// The configuration made from `--server` and the other flags alone, with no kubeconfig.
fn flags_only() -> Kubeconfig {
    single_context(FROM_FLAGS, Cluster::default(), AuthInfo::default(), None)
}

fn single_context(name: &str, cluster: Cluster, user: AuthInfo, namespace: Option<String>) -> Kubeconfig {
    Kubeconfig {
        clusters: vec![NamedCluster { name: name.to_string(), cluster: Some(cluster), other: Default::default() }],
        auth_infos: vec![NamedAuthInfo { name: name.to_string(), auth_info: Some(user), other: Default::default() }],
        contexts: vec![NamedContext {
            name: name.to_string(),
            context: Some(Context { cluster: name.to_string(), user: Some(name.to_string()), namespace, ..Default::default() }),
            other: Default::default(),
        }],
        current_context: Some(name.to_string()),
        ..Default::default()
    }
}

/// Writes the connection flags into the cluster and user entries the context selects (after
/// `--cluster` and `--user`), so that kube's loader reads them as if the file held them; returns
/// that selection.
fn apply_overrides(kubeconfig: &mut Kubeconfig, options: &ClusterOptions) -> Result<KubeConfigOptions, Error> {
    let context_name = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .ok_or_else(|| Error::access("the kubeconfig names no current-context: choose one with --context (kubectl config get-contexts lists them)"))?;
    let context = kubeconfig
        .contexts
        .iter()
        .find(|named| named.name == context_name)
        .and_then(|named| named.context.clone())
        .ok_or_else(|| Error::access(format!("context {context_name:?} is not in the kubeconfig")))?;
    let cluster_name = options.cluster.clone().unwrap_or(context.cluster);
    let mut user_name = options.user.clone().or(context.user);

    if options.overrides_cluster() {
        let cluster =
            entry(&mut kubeconfig.clusters, &cluster_name, |named| &named.name, |name| NamedCluster { name, cluster: None, other: Default::default() });
        let cluster = cluster.cluster.get_or_insert_with(Cluster::default);
        if let Some(server) = &options.server {
            cluster.server = Some(server.clone());
        }
        if let Some(ca) = &options.certificate_authority {
            cluster.certificate_authority = Some(ca.display().to_string());
            cluster.certificate_authority_data = None;
        }
        if options.insecure_skip_tls_verify {
            cluster.insecure_skip_tls_verify = Some(true);
        }
    }
    if options.overrides_user() {
        let name = user_name.get_or_insert_with(|| FROM_FLAGS.to_string()).clone();
        let user = entry(&mut kubeconfig.auth_infos, &name, |named| &named.name, |name| NamedAuthInfo { name, auth_info: None, other: Default::default() });
        let user = user.auth_info.get_or_insert_with(AuthInfo::default);
        if let Some(token) = &options.token {
            // A token given on the command line is who we are: no other way of getting one.
            *user = AuthInfo {
                token: Some(token.clone().into()),
                client_certificate: user.client_certificate.take(),
                client_certificate_data: user.client_certificate_data.take(),
                client_key: user.client_key.take(),
                client_key_data: user.client_key_data.take(),
                impersonate: user.impersonate.take(),
                impersonate_groups: user.impersonate_groups.take(),
                ..Default::default()
            };
        }
        if let Some(impersonate) = &options.impersonate {
            user.impersonate = Some(impersonate.clone());
        }
        if !options.impersonate_groups.is_empty() {
            user.impersonate_groups = Some(options.impersonate_groups.clone());
        }
    }
    Ok(KubeConfigOptions { context: Some(context_name), cluster: Some(cluster_name), user: user_name })
}

/// The named entry, added if the list has none of that name.
fn entry<'a, T>(list: &'a mut Vec<T>, name: &str, name_of: impl Fn(&T) -> &String, new: impl FnOnce(String) -> T) -> &'a mut T {
    let index = match list.iter().position(|item| name_of(item) == name) {
        Some(index) => index,
        None => {
            list.push(new(name.to_string()));
            list.len() - 1
        }
    };
    &mut list[index]
}

fn selected_cluster<'a>(kubeconfig: &'a Kubeconfig, selection: &KubeConfigOptions) -> Option<&'a Cluster> {
    let name = selection.cluster.as_ref()?;
    kubeconfig.clusters.iter().find(|named| &named.name == name)?.cluster.as_ref()
}

/// The proxy kubectl (Go's `http.ProxyFromEnvironment`) would use for `server`: `HTTPS_PROXY`
/// (or `https_proxy`) for an https server, `HTTP_PROXY` for an http one, none when `NO_PROXY`
/// covers the server's host (names with their subdomains, IPs, CIDR ranges, `*`) or the server
/// is `localhost` or a loopback address.
pub fn proxy_from_environment(server: &http::Uri, surroundings: &Surroundings<'_>) -> Result<Option<http::Uri>, Error> {
    let Some(host) = server.host() else { return Ok(None) };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        return Ok(None);
    }
    let (upper, lower) = if server.scheme_str() == Some("http") { ("HTTP_PROXY", "http_proxy") } else { ("HTTPS_PROXY", "https_proxy") };
    let Some((name, value)) = surroundings.get(upper).map(|value| (upper, value)).or_else(|| surroundings.get(lower).map(|value| (lower, value))) else {
        return Ok(None);
    };
    let no_proxy = surroundings.get("NO_PROXY").or_else(|| surroundings.get("no_proxy")).unwrap_or_default();
    // The matcher is asked only whether NO_PROXY covers the server: its placeholder proxy
    // stands for any, so that a proxy URL it cannot read is still reported below.
    let no_proxy_check = hyper_util::client::proxy::matcher::Matcher::builder().all("http://proxy").no(no_proxy).build();
    if no_proxy_check.intercept(server).is_none() {
        return Ok(None);
    }
    parse_proxy(&value, name).map(Some)
}

/// A proxy URL as Go reads it: without a scheme, `http://` is meant.
fn parse_proxy(value: &str, source: &str) -> Result<http::Uri, Error> {
    let url = if value.contains("://") { value.to_string() } else { format!("http://{value}") };
    let uri: http::Uri = url.parse().map_err(|e| Error::access(format!("{source} {value:?} is not a proxy URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https" | "socks5") => Ok(uri),
        _ => Err(Error::access(format!("{source} {value:?}: rollwatch reaches the API server through http, https or socks5 proxies"))),
    }
}

/// Why no configuration was found: each place kubectl would have looked.
fn no_configuration(options: &ClusterOptions, surroundings: &Surroundings<'_>) -> String {
    let files = match (&options.kubeconfig, surroundings.get("KUBECONFIG")) {
        (Some(path), _) => format!("--kubeconfig {}", path.display()),
        (None, Some(list)) => format!("no file of KUBECONFIG={list} exists"),
        (None, None) => match &surroundings.home {
            Some(home) => format!("no {}", home.join(".kube").join("config").display()),
            None => "KUBECONFIG is unset and there is no home directory".to_string(),
        },
    };
    let pod = if surroundings.get("KUBERNETES_SERVICE_HOST").is_none() || surroundings.get("KUBERNETES_SERVICE_PORT").is_none() {
        "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are unset".to_string()
    } else {
        format!("no service account token at {}", surroundings.service_account_dir.join("token").display())
    };
    format!("no cluster configured: {files}, and not in a pod ({pod}); pass --kubeconfig, set KUBECONFIG, or --server")
}

/// Fails with an access error unless the API server answers (and lets us in); a server that
/// throttles or is briefly unavailable is asked again, as every later request is.
pub async fn check_reachable(client: &kube::Client) -> Result<(), Error> {
    crate::retry::retrying(|| client.apiserver_version()).await.map(drop).map_err(|e| Error::from_kube("contacting the API server", &e).into_access())
}

impl Error {
    /// Any failure to build a client or get the server's version means we cannot use the cluster.
    fn into_access(self) -> Self {
        Error::access(self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A scratch directory with a home (no `.kube`), a service account mount and a CA file.
    struct Scratch {
        dir: PathBuf,
        ca: PathBuf,
    }

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("rollwatch-connect-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("home")).unwrap();
            let ca = dir.join("ca.crt");
            std::fs::write(&ca, rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap().cert.pem()).unwrap();
            Scratch { dir, ca }
        }

        fn service_account(&self, namespace: &str) -> PathBuf {
            let sa = self.dir.join("serviceaccount");
            std::fs::create_dir_all(&sa).unwrap();
            std::fs::write(sa.join("token"), "pod-token").unwrap();
            std::fs::copy(&self.ca, sa.join("ca.crt")).unwrap();
            std::fs::write(sa.join("namespace"), namespace).unwrap();
            sa
        }

        fn kubeconfig(&self, file: &str, current: &str, contexts: &[(&str, &str, &str)]) -> PathBuf {
            let mut text = format!("apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n");
            for (name, server, _) in contexts {
                text += &format!("- name: {name}\n  cluster: {{server: '{server}', certificate-authority: {}}}\n", self.ca.display());
            }
            text += "users:\n";
            for (name, _, _) in contexts {
                text += &format!("- name: {name}\n  user: {{token: token-of-{name}}}\n");
            }
            text += "contexts:\n";
            for (name, _, namespace) in contexts {
                text += &format!("- name: {name}\n  context: {{cluster: {name}, user: {name}, namespace: {namespace}}}\n");
            }
            let path = self.dir.join(file);
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn load(options: &ClusterOptions, vars: &[(&str, &str)], scratch: &Scratch, sa: Option<&Path>) -> Result<kube::Config, Error> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let var = move |name: &str| vars.get(name).cloned();
        let surroundings = Surroundings {
            var: &var,
            home: Some(scratch.dir.join("home")),
            service_account_dir: sa.map(Path::to_path_buf).unwrap_or_else(|| scratch.dir.join("none")),
        };
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(client_config(options, &surroundings))
    }

    const POD: [(&str, &str); 2] = [("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443")];

    #[test]
    fn without_a_kubeconfig_a_pod_uses_its_service_account_and_namespace() {
        let scratch = Scratch::new("in-cluster");
        let sa = scratch.service_account("team-a\n");
        let config = load(&ClusterOptions::default(), &POD, &scratch, Some(&sa)).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://10.96.0.1:443/");
        assert_eq!(config.default_namespace, "team-a");
        assert_eq!(config.auth_info.token_file.as_deref(), Some(sa.join("token").to_str().unwrap()));
        assert_eq!(config.root_cert.map(|certs| certs.len()), Some(1));

        let with_env = [POD[0], POD[1], ("POD_NAMESPACE", "team-b")];
        assert_eq!(load(&ClusterOptions::default(), &with_env, &scratch, Some(&sa)).unwrap().default_namespace, "team-b");
    }

    #[test]
    fn in_a_pod_the_flags_still_apply() {
        let scratch = Scratch::new("in-cluster-flags");
        let sa = scratch.service_account("team-a");
        let options = ClusterOptions { impersonate: Some("jane".into()), ..Default::default() };
        let config = load(&options, &[POD[0], ("KUBERNETES_SERVICE_PORT", "6443")], &scratch, Some(&sa)).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://10.96.0.1:6443/");
        assert_eq!(config.auth_info.impersonate.as_deref(), Some("jane"));
        assert!(config.auth_info.token_file.is_some());
    }

    #[test]
    fn with_no_kubeconfig_and_no_pod_the_error_says_where_it_looked() {
        let scratch = Scratch::new("nothing");
        let error = load(&ClusterOptions::default(), &[], &scratch, None).unwrap_err();
        assert_eq!(error.kind, crate::ErrorKind::Access);
        assert!(error.message.contains(".kube/config") && error.message.contains("KUBERNETES_SERVICE_HOST"), "{}", error.message);

        // Variables set but no token mounted: not a pod either.
        let error = load(&ClusterOptions::default(), &POD, &scratch, None).unwrap_err();
        assert!(error.message.contains("no service account token at"), "{}", error.message);
    }

    #[test]
    fn kubeconfig_files_merge_like_kubectl_and_missing_ones_are_skipped() {
        let scratch = Scratch::new("merge");
        let first = scratch.kubeconfig("first", "dev", &[("dev", "https://dev.example:6443", "dev-ns")]);
        let second = scratch.kubeconfig("second", "prod", &[("prod", "https://prod.example:6443", "prod-ns"), ("dev", "https://shadowed.example", "x")]);
        let missing = scratch.dir.join("missing");
        let list = std::env::join_paths([&missing, &first, &second]).unwrap();
        let vars = [("KUBECONFIG", list.to_str().unwrap())];

        let config = load(&ClusterOptions::default(), &vars, &scratch, None).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://dev.example:6443/", "the first file's current-context and its dev entry win");
        assert_eq!(config.default_namespace, "dev-ns");

        let config = load(&ClusterOptions { context: Some("prod".into()), ..Default::default() }, &vars, &scratch, None).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://prod.example:6443/");
        assert_eq!(config.default_namespace, "prod-ns");

        // --kubeconfig names one file that must exist.
        let error = load(&ClusterOptions { kubeconfig: Some(missing.clone()), ..Default::default() }, &[], &scratch, None).unwrap_err();
        assert_eq!(error.kind, crate::ErrorKind::Access);
        assert!(error.message.contains(missing.to_str().unwrap()), "{}", error.message);
    }

    #[test]
    fn connection_flags_override_the_context() {
        let scratch = Scratch::new("flags");
        let path = scratch.kubeconfig("config", "dev", &[("dev", "https://dev.example:6443", "dev-ns"), ("prod", "https://prod.example", "prod-ns")]);
        let options = ClusterOptions {
            kubeconfig: Some(path.clone()),
            server: Some("https://other.example:8443".into()),
            token: Some("flag-token".into()),
            impersonate: Some("jane".into()),
            impersonate_groups: vec!["ops".into(), "dev".into()],
            insecure_skip_tls_verify: true,
            request_timeout: Some(Duration::from_secs(7)),
            ..Default::default()
        };
        let config = load(&options, &[], &scratch, None).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://other.example:8443/");
        assert_eq!(config.auth_info.token.as_ref().map(expose).as_deref(), Some("flag-token"));
        assert_eq!(config.auth_info.impersonate.as_deref(), Some("jane"));
        assert_eq!(config.auth_info.impersonate_groups, Some(vec!["ops".to_string(), "dev".to_string()]));
        assert!(config.accept_invalid_certs);
        assert_eq!(config.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(config.default_namespace, "dev-ns");

        // --cluster and --user pick other entries than the context's.
        let options = ClusterOptions { kubeconfig: Some(path), cluster: Some("prod".into()), user: Some("prod".into()), ..Default::default() };
        let config = load(&options, &[], &scratch, None).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://prod.example/");
        assert_eq!(config.auth_info.token.as_ref().map(expose).as_deref(), Some("token-of-prod"));

        // --server alone is enough without any kubeconfig.
        let options = ClusterOptions { server: Some("https://alone.example".into()), token: Some("t".into()), ..Default::default() };
        let config = load(&options, &[], &scratch, None).unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://alone.example/");
        assert_eq!(config.default_namespace, "default");
    }

    fn expose(secret: &secrecy::SecretString) -> String {
        use secrecy::ExposeSecret;
        secret.expose_secret().to_string()
    }

    fn proxy(server: &str, vars: &[(&str, &str)]) -> Result<Option<String>, Error> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let var = move |name: &str| vars.get(name).cloned();
        let surroundings = Surroundings { var: &var, home: None, service_account_dir: PathBuf::new() };
        proxy_from_environment(&server.parse().unwrap(), &surroundings).map(|uri| uri.map(|uri| uri.to_string()))
    }

    #[test]
    fn the_proxy_is_chosen_as_go_chooses_it() {
        let https = [("HTTPS_PROXY", "http://proxy.corp:3128"), ("HTTP_PROXY", "http://plain.corp:80")];
        assert_eq!(proxy("https://api.example:6443", &https).unwrap().as_deref(), Some("http://proxy.corp:3128/"));
        assert_eq!(proxy("http://api.example:8080", &https).unwrap().as_deref(), Some("http://plain.corp:80/"));
        assert_eq!(proxy("https://api.example", &[("https_proxy", "proxy.corp:3128")]).unwrap().as_deref(), Some("http://proxy.corp:3128/"));
        assert_eq!(proxy("https://api.example", &[("HTTPS_PROXY", "socks5://127.0.0.1:1080")]).unwrap().as_deref(), Some("socks5://127.0.0.1:1080/"));
        assert_eq!(proxy("https://api.example", &[]).unwrap(), None);
        // NO_PROXY: a domain covers its subdomains, CIDR ranges cover addresses.
        let no = |list: &'static str| [https[0], ("NO_PROXY", list)];
        assert_eq!(proxy("https://api.example:6443", &no("example")).unwrap(), None);
        assert_eq!(proxy("https://api.example:6443", &no(".example")).unwrap(), None);
        assert_eq!(proxy("https://10.1.2.3:6443", &no("10.0.0.0/8")).unwrap(), None);
        assert_eq!(proxy("https://api.example:6443", &no("*")).unwrap(), None);
        assert!(proxy("https://api.example:6443", &no("other.example, 10.0.0.0/8")).unwrap().is_some());
        // Loopback servers are never proxied.
        assert_eq!(proxy("https://127.0.0.1:6443", &https).unwrap(), None);
        assert_eq!(proxy("https://localhost:6443", &https).unwrap(), None);
        assert_eq!(proxy("https://[::1]:6443", &https).unwrap(), None);
        // A proxy of a kind rollwatch cannot use is a clear access error.
        let error = proxy("https://api.example", &[("HTTPS_PROXY", "ftp://proxy.corp")]).unwrap_err();
        assert_eq!(error.kind, crate::ErrorKind::Access);
        assert!(error.message.contains("HTTPS_PROXY") && error.message.contains("ftp://proxy.corp"), "{}", error.message);
    }

    #[test]
    fn the_kubeconfig_proxy_url_wins_over_the_environment() {
        let scratch = Scratch::new("proxy-url");
        let path = scratch.kubeconfig("config", "dev", &[("dev", "https://dev.example:6443", "dev-ns")]);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("server: 'https://dev.example:6443'", "server: 'https://dev.example:6443', proxy-url: 'http://from-config:8080'");
        std::fs::write(&path, text).unwrap();
        let options = ClusterOptions { kubeconfig: Some(path), ..Default::default() };
        let config = load(&options, &[("HTTPS_PROXY", "http://from-env:3128"), ("NO_PROXY", "nothing.example")], &scratch, None).unwrap();
        assert_eq!(config.proxy_url.map(|uri| uri.to_string()).as_deref(), Some("http://from-config:8080/"));
        let config = load(
            &ClusterOptions::default(),
            &[("KUBECONFIG", scratch.dir.join("config").to_str().unwrap()), ("HTTPS_PROXY", "http://from-env:3128")],
            &scratch,
            None,
        );
        assert_eq!(config.unwrap().proxy_url.map(|uri| uri.to_string()).as_deref(), Some("http://from-config:8080/"));
    }
}
