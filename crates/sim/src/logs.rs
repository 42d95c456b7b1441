//! Container logs, and the kubelet's HTTPS endpoint that serves them: the API
//! server's `pods/log` proxies to `https://<node InternalIP>:<kubelet port>
//! /containerLogs/{namespace}/{pod}/{container}`, so `kubectl logs` works.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Key = (String, String, String);

#[derive(Default)]
struct ContainerLog {
    /// The pod instance the lines belong to: a StatefulSet's replacement pod has
    /// the same name, and must neither see nor lose its predecessor's log.
    uid: String,
    current: Vec<(Timestamp, String)>,
    previous: Option<Vec<(Timestamp, String)>>,
}

/// Log lines of every simulated container: the running instance's and the previous one's.
#[derive(Clone, Default)]
pub struct LogStore(Arc<Mutex<HashMap<Key, ContainerLog>>>);

impl LogStore {
    pub fn append(&self, namespace: &str, pod: &str, uid: &str, container: &str, line: impl Into<String>) {
        self.with_log(namespace, pod, uid, container, |log| log.current.push((Timestamp::now(), line.into())));
    }

    /// A new container instance starts: what it logged so far becomes `--previous`.
    pub fn restart(&self, namespace: &str, pod: &str, uid: &str, container: &str) {
        self.with_log(namespace, pod, uid, container, |log| log.previous = Some(std::mem::take(&mut log.current)));
    }

    /// Drops the logs of pod instance `uid` (a newer pod of the same name keeps its own).
    pub fn forget_pod(&self, namespace: &str, pod: &str, uid: &str) {
        self.0.lock().expect("log lock").retain(|(ns, p, _), log| !(ns == namespace && p == pod && log.uid == uid));
    }

    fn with_log(&self, namespace: &str, pod: &str, uid: &str, container: &str, change: impl FnOnce(&mut ContainerLog)) {
        let key = (namespace.to_owned(), pod.to_owned(), container.to_owned());
        let mut logs = self.0.lock().expect("log lock");
        let log = logs.entry(key).or_default();
        if log.uid != uid {
            *log = ContainerLog { uid: uid.to_owned(), ..ContainerLog::default() };
        }
        change(log);
    }

    fn read(&self, key: &Key, query: &Query) -> Result<String, (StatusCode, String)> {
        let logs = self.0.lock().expect("log lock");
        let log = logs.get(key).ok_or_else(|| (StatusCode::NOT_FOUND, format!("container \"{}\" in pod \"{}\" is not available", key.2, key.1)))?;
        let lines = if query.previous {
            log.previous
                .as_ref()
                .ok_or_else(|| (StatusCode::BAD_REQUEST, format!("previous terminated container \"{}\" in pod \"{}\" not found", key.2, key.1)))?
        } else {
            &log.current
        };
        let skip = query.tail_lines.map_or(0, |n| lines.len().saturating_sub(n));
        Ok(lines[skip..].iter().map(|(t, line)| if query.timestamps { format!("{} {line}\n", t) } else { format!("{line}\n") }).collect())
    }
}

#[derive(Default)]
struct Query {
    previous: bool,
    timestamps: bool,
    tail_lines: Option<usize>,
}

fn parse_query(query: Option<&str>) -> Query {
    let mut q = Query::default();
    for pair in query.unwrap_or_default().split('&') {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("previous", v) => q.previous = v == "true" || v == "1",
            ("timestamps", v) => q.timestamps = v == "true" || v == "1",
            ("tailLines", v) => q.tail_lines = v.parse().ok(),
            _ => {}
        }
    }
    q
}

fn respond(store: &LogStore, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let parts: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    let (status, body) = match parts.as_slice() {
        ["containerLogs", ns, pod, container] => {
            let key = (ns.to_string(), pod.to_string(), container.to_string());
            match store.read(&key, &parse_query(req.uri().query())) {
                Ok(body) => (StatusCode::OK, body),
                Err(err) => err,
            }
        }
        _ => (StatusCode::NOT_FOUND, format!("{} is not served by the simulated kubelet\n", req.uri().path())),
    };
    Response::builder().status(status).header("Content-Type", "text/plain").body(Full::new(Bytes::from(body))).expect("a valid response")
}

/// Serves the logs over HTTPS with a self-signed certificate (the API server
/// does not verify kubelet certificates unless told to).
pub async fn serve(store: LogStore, port: u16) -> anyhow::Result<()> {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).map_err(anyhow::Error::msg)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let store = store.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else { return };
            let service = hyper::service::service_fn(move |req| {
                let response = respond(&store, &req);
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let io = hyper_util::rt::TokioIo::new(tls);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                tracing::debug!("log connection: {e}");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_previous_and_missing_logs() {
        let store = LogStore::default();
        for line in ["one", "two", "three"] {
            store.append("ns", "p", "u1", "app", line);
        }
        let key = ("ns".to_owned(), "p".to_owned(), "app".to_owned());
        let tail = store.read(&key, &Query { tail_lines: Some(2), ..Query::default() }).unwrap();
        assert_eq!(tail, "two\nthree\n");
        let err = store.read(&key, &Query { previous: true, ..Query::default() }).unwrap_err();
        assert_eq!(err.0, StatusCode::BAD_REQUEST);
        store.restart("ns", "p", "u1", "app");
        store.append("ns", "p", "u1", "app", "four");
        assert_eq!(store.read(&key, &Query { previous: true, ..Query::default() }).unwrap(), "one\ntwo\nthree\n");
        assert_eq!(store.read(&key, &Query::default()).unwrap(), "four\n");
    }

    #[test]
    fn a_new_pod_of_the_same_name_starts_a_fresh_log_and_survives_the_old_ones_cleanup() {
        let store = LogStore::default();
        let key = ("ns".to_owned(), "db-0".to_owned(), "db".to_owned());
        store.append("ns", "db-0", "old", "db", "old line");
        store.append("ns", "db-0", "new", "db", "new line");
        store.forget_pod("ns", "db-0", "old");
        assert_eq!(store.read(&key, &Query::default()).unwrap(), "new line\n");
        store.forget_pod("ns", "db-0", "new");
        assert!(store.read(&key, &Query::default()).is_err());
    }

    #[test]
    fn query_parameters() {
        let q = parse_query(Some("previous=true&tailLines=20&timestamps=true&follow=false"));
        assert!(q.previous && q.timestamps);
        assert_eq!(q.tail_lines, Some(20));
    }
}
