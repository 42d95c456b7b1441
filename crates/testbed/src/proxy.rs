//! A faulty network between rollwatch and the API server, on loopback: [`ApiProxy`] stands in
//! for the API server of a `scripts/cluster` instance and passes each request on, except where a
//! test asks for a fault — throttling (429 Too Many Requests with a Retry-After, as an API
//! server under load answers) or connections that stop delivering without closing.
//!
//! The API server speaks only TLS, so the proxy terminates it with the instance's own serving
//! certificate (`STATE/pki/apiserver.{crt,key}`, valid for 127.0.0.1, signed by the CA the
//! kubeconfig trusts) and opens a TLS connection of its own to the API server for each client
//! connection; the client's bearer token passes through unchanged. HTTP/1.1 only (the proxy
//! offers no h2), which is what rollwatch's client speaks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use crate::Run;

/// The seconds a throttled request is told to wait, as the API server's own 429s say (1 s).
const RETRY_AFTER_SECONDS: u32 = 1;

/// What the proxy has seen and done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProxyCounts {
    /// Requests received, throttled ones included.
    pub requests: u64,
    /// Requests answered 429 instead of being passed on.
    pub throttled: u64,
    /// Of those, watch requests (`?watch=true` or `watch=1`).
    pub throttled_watches: u64,
    /// Client connections accepted.
    pub connections: u64,
}

#[derive(Default)]
struct Faults {
    /// Every this-many-th request is answered 429 (0: none, 1: all).
    throttle_every: AtomicU32,
    requests: AtomicU64,
    throttled: AtomicU64,
    throttled_watches: AtomicU64,
    connections: AtomicU64,
    /// Connections numbered below this stop delivering (see [`ApiProxy::freeze_open_connections`]).
    frozen_below: AtomicU64,
    /// No request gets an answer, on any connection.
    hold_all: AtomicBool,
}

impl Faults {
    fn frozen(&self, connection: u64) -> bool {
        connection < self.frozen_below.load(Ordering::SeqCst)
    }

    /// Whether request number `request` (from 1) is to be throttled.
    fn throttles(&self, request: u64) -> bool {
        match u64::from(self.throttle_every.load(Ordering::SeqCst)) {
            0 => false,
            every => request.is_multiple_of(every),
        }
    }
}

/// A proxy in front of a `scripts/cluster` instance's API server; it stops when dropped.
pub struct ApiProxy {
    /// A kubeconfig like the instance's, its server the proxy.
    kubeconfig: tempfile::NamedTempFile,
    faults: Arc<Faults>,
    /// What was counted before [`ApiProxy::start`] returned: the kubectl used to write the
    /// kubeconfig asks the server for its version (kubectl-dispatcher).
    baseline: ProxyCounts,
    /// The proxy's tasks run here, beside the test's own threads.
    _runtime: tokio::runtime::Runtime,
}

impl ApiProxy {
    /// Starts a proxy for the cluster of `kubeconfig` (written by `scripts/cluster`, with the
    /// instance's `pki` directory beside it), passing everything on until told otherwise.
    pub fn start(kubeconfig: &Path) -> Self {
        let pki = kubeconfig.parent().expect("the kubeconfig is in the instance's directory").join("pki");
        let server = kubectl_config(kubeconfig, &["view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"]).stdout;
        let upstream: SocketAddr = server.trim().strip_prefix("https://").and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("server {server:?}"));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime for the proxy");
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("a loopback port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let faults = Arc::new(Faults::default());
        let tls = Tls::from_pki(&pki);
        runtime.spawn(accept(listener, tls, upstream, faults.clone()));

        // The same kubeconfig (credentials, CA, namespace), its cluster reached through the proxy.
        let file = tempfile::Builder::new().prefix("rollwatch-proxy-").suffix(".kubeconfig").tempfile().expect("a temporary kubeconfig");
        let raw = kubectl_config(kubeconfig, &["view", "--raw", "--minify"]).ok();
        std::fs::write(file.path(), raw.stdout).expect("write the proxy's kubeconfig");
        let cluster = kubectl_config(file.path(), &["view", "-o", "jsonpath={.clusters[0].name}"]).ok().stdout;
        kubectl_config(file.path(), &["set-cluster", cluster.trim(), &format!("--server=https://{address}")]).ok();
        let mut proxy = ApiProxy { kubeconfig: file, faults, baseline: ProxyCounts::default(), _runtime: runtime };
        proxy.baseline = proxy.counts();
        proxy
    }

    /// The kubeconfig whose requests go through the proxy.
    pub fn kubeconfig(&self) -> PathBuf {
        self.kubeconfig.path().to_path_buf()
    }

    /// Answers every `every`-th request from now on with 429 and a Retry-After of 1 s
    /// (1: every request, a storm; 0: none).
    pub fn throttle_every(&self, every: u32) {
        self.faults.throttle_every.store(every, Ordering::SeqCst);
    }

    /// The connections open now stop delivering anything, for good, without closing: a request
    /// on them gets no answer, a response under way (a watch) no further byte. Connections
    /// opened later work.
    pub fn freeze_open_connections(&self) {
        let accepted = self.faults.connections.load(Ordering::SeqCst);
        self.faults.frozen_below.store(accepted, Ordering::SeqCst);
    }

    /// No request gets an answer from now on, on open connections or new ones (which are still
    /// accepted): an API server that hangs.
    pub fn hold_all_requests(&self) {
        self.faults.hold_all.store(true, Ordering::SeqCst);
    }

    /// What the proxy saw since [`ApiProxy::start`] returned.
    pub fn counts(&self) -> ProxyCounts {
        let load = |counter: &AtomicU64, before: u64| counter.load(Ordering::SeqCst) - before;
        ProxyCounts {
            requests: load(&self.faults.requests, self.baseline.requests),
            throttled: load(&self.faults.throttled, self.baseline.throttled),
            throttled_watches: load(&self.faults.throttled_watches, self.baseline.throttled_watches),
            connections: load(&self.faults.connections, self.baseline.connections),
        }
    }
}

fn kubectl_config(kubeconfig: &Path, args: &[&str]) -> Run {
    std::process::Command::new("kubectl").env("KUBECONFIG", kubeconfig).arg("config").args(args).output().expect("kubectl runs").into()
}

/// Both ends' TLS: the API server's certificate toward the client, its CA toward the API server.
#[derive(Clone)]
struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    connector: tokio_rustls::TlsConnector,
}

impl Tls {
    fn from_pki(pki: &Path) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certificates: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(pki.join("apiserver.crt")).expect("the API server's certificate").map(|c| c.expect("a certificate")).collect();
        let key = PrivateKeyDer::from_pem_file(pki.join("apiserver.key")).expect("the API server's key");
        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certificates, key)
            .expect("the API server's certificate and key");
        server.alpn_protocols = vec![b"http/1.1".to_vec()];

        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(pki.join("ca.crt")).expect("the instance's CA") {
            roots.add(ca.expect("a CA certificate")).expect("a usable CA certificate");
        }
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        Tls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)), connector: tokio_rustls::TlsConnector::from(Arc::new(client)) }
    }
}

async fn accept(listener: TcpListener, tls: Tls, upstream: SocketAddr, faults: Arc<Faults>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        let connection = faults.connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(serve(client, connection, tls.clone(), upstream, faults.clone()));
    }
}

/// The API server connection that serves one client connection, opened at its first request.
type Upstream = Arc<Mutex<Option<hyper::client::conn::http1::SendRequest<Incoming>>>>;

/// Serves one client connection, passing its requests on over a connection of its own.
async fn serve(client: TcpStream, connection: u64, tls: Tls, upstream: SocketAddr, faults: Arc<Faults>) {
    let Ok(client) = tls.acceptor.accept(client).await else { return };
    let sender: Upstream = Arc::new(Mutex::new(None));
    let service = hyper::service::service_fn(move |request| {
        let (tls, faults, sender) = (tls.clone(), faults.clone(), sender.clone());
        async move { Ok::<_, Infallible>(answer(request, connection, &tls, upstream, faults, &sender).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(client), service).await;
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

async fn answer(request: Request<Incoming>, connection: u64, tls: &Tls, upstream: SocketAddr, faults: Arc<Faults>, sender: &Upstream) -> Response<ProxyBody> {
    let number = faults.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if faults.frozen(connection) || faults.hold_all.load(Ordering::SeqCst) {
        return std::future::pending().await;
    }
    if faults.throttles(number) {
        faults.throttled.fetch_add(1, Ordering::SeqCst);
        let query = request.uri().query().unwrap_or_default();
        if query.split('&').any(|pair| pair == "watch=true" || pair == "watch=1") {
            faults.throttled_watches.fetch_add(1, Ordering::SeqCst);
        }
        return too_many_requests();
    }
    match pass_on(request, tls, upstream, sender).await {
        Ok(response) => response.map(|body| FreezableBody { inner: body, connection, faults }.boxed()),
        Err(error) => {
            let body = Full::new(Bytes::from(format!("proxy: the API server could not be reached: {error}"))).map_err(|never| match never {}).boxed();
            Response::builder().status(StatusCode::BAD_GATEWAY).body(body).expect("a valid response")
        }
    }
}

/// The API server's own answer to a client it throttles (its max-in-flight filter): 429 with a
/// `Retry-After` header and the same in the Status's details.
fn too_many_requests() -> Response<ProxyBody> {
    let status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": RETRY_AFTER_SECONDS}, "code": 429,
    });
    Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .header("Content-Type", "application/json")
        .header("Retry-After", RETRY_AFTER_SECONDS.to_string())
        .body(Full::new(Bytes::from(status.to_string())).map_err(|never| match never {}).boxed())
        .expect("a valid response")
}

async fn pass_on(
    request: Request<Incoming>,
    tls: &Tls,
    upstream: SocketAddr,
    sender: &Upstream,
) -> Result<Response<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
    let mut sender = sender.lock().await;
    if sender.as_ref().is_none_or(|s| s.is_closed()) {
        let tcp = TcpStream::connect(upstream).await?;
        let server_name = ServerName::IpAddress(upstream.ip().into());
        let stream = tls.connector.connect(server_name, tcp).await?;
        let (opened, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        *sender = Some(opened);
    }
    let opened = sender.as_mut().expect("opened above");
    opened.ready().await?;
    Ok(opened.send_request(request).await?)
}

/// A response body that stops delivering once its connection is frozen: the client is left
/// waiting on an open connection, as behind a network path that went silent.
struct FreezableBody {
    inner: Incoming,
    connection: u64,
    faults: Arc<Faults>,
}

impl Body for FreezableBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if self.faults.frozen(self.connection) {
            // Never woken again: nothing more is sent, and the connection is not closed.
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_frame(context)
    }

    fn is_end_stream(&self) -> bool {
        !self.faults.frozen(self.connection) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
