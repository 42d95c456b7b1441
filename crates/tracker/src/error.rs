//! What can go wrong talking to a cluster, sorted by whose move it is: the user's input, the
//! cluster access, or the cluster itself.

use kube::client::AuthError;

/// Whose problem an [`Error`] is; the command line turns it into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input: an unreadable or invalid manifest, an unknown kind, a rejected dry run.
    Input,
    /// The cluster cannot be reached or refuses us (unreachable, unauthorized, forbidden).
    Access,
    /// The cluster answered with an error for a valid request.
    Cluster,
    /// The `--timeout` passed before the work was done.
    TimedOut,
}

/// An error from the tracker, with a message that names what it is about.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Input, message: message.into() }
    }

    pub fn access(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Access, message: message.into() }
    }

    pub fn cluster(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Cluster, message: message.into() }
    }

    pub fn timed_out(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::TimedOut, message: message.into() }
    }

    /// Classifies a client error: 401/403, transport failures and throttling (429, which the
    /// requests that can be retried were, until their attempts ran out) are access errors, other
    /// API answers are the cluster's; `context` says what was being done.
    pub fn from_kube(context: &str, error: &kube::Error) -> Self {
        let message = format!("{context}: {}", describe(error));
        if is_access_error(error) || is_throttled(error) { Self::access(message) } else { Self::cluster(message) }
    }

    /// Like [`Error::from_kube`], but an API rejection (4xx other than 401/403) is the input's
    /// fault: the server refused what the user gave (an invalid field, a conflict).
    pub fn from_kube_input(context: &str, error: &kube::Error) -> Self {
        match error {
            kube::Error::Api(status) if is_rejection_of_input(status) => Self::input(format!("{context}: {}", describe(error))),
            _ => Self::from_kube(context, error),
        }
    }
}

/// Whether the API server refused what it was given (not who asked, nor its own state): a 4xx
/// other than 401/403/429, or the 500 that servers before v1.22 answer when server-side apply
/// cannot type the object (a field of the wrong type or unknown to the schema).
fn is_rejection_of_input(status: &kube::core::Status) -> bool {
    match status.code {
        401 | 403 | 429 => false,
        400..500 => true,
        500 => status.message.contains("failed to create typed patch object"),
        _ => false,
    }
}

/// Whether the API server refused to serve the request just then (429 Too Many Requests).
fn is_throttled(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 429)
}

/// Whether the error means we cannot talk to the cluster at all (as opposed to a refused request).
pub(crate) fn is_access_error(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 401 || status.code == 403,
        kube::Error::HyperError(_)
        | kube::Error::Service(_)
        | kube::Error::InferConfig(_)
        | kube::Error::InferKubeconfig(_)
        | kube::Error::Auth(_)
        | kube::Error::RustlsTls(_)
        | kube::Error::TlsRequired
        | kube::Error::ProxyProtocolUnsupported { .. }
        | kube::Error::ProxyProtocolDisabled { .. } => true,
        _ => false,
    }
}

/// The API server's own message where there is one, without kube's debug dump; never what a
/// kubeconfig exec plugin printed (see [`describe_auth`]).
pub(crate) fn describe(error: &kube::Error) -> String {
    if let Some(auth) = auth_error(error) {
        return describe_auth(auth);
    }
    match error {
        kube::Error::Api(status) if status.code == 429 => {
            format!("the API server is throttling requests (429 Too Many Requests: {})", status.message.trim_end_matches('.'))
        }
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => with_causes(other),
    }
}

/// The error and what caused it, down the chain: kube's transport errors say only "client error
/// (Connect)"; the cause says which (connection refused, a name that does not resolve, a proxy's
/// refusal, a certificate).
fn with_causes(error: &kube::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        source = cause.source();
    }
    text
}

/// The credentials error within `error`: kube returns it as is when the client is built (the
/// exec plugin first runs then) and boxed within a service error when a request refreshes the token.
fn auth_error(error: &kube::Error) -> Option<&AuthError> {
    if let kube::Error::Auth(auth) = error {
        return Some(auth);
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(auth) = cause.downcast_ref::<AuthError>() {
            return Some(auth);
        }
        source = cause.source();
    }
    None
}

/// Why no credentials could be had, without the details that can hold them: kube's message for a
/// failed exec plugin quotes its command line with its environment and everything the plugin
/// printed (a token printed before it failed, say), its parse error quotes that output, and a
/// JSON error can quote a token; CI logs keep what is shown.
fn describe_auth(error: &AuthError) -> String {
    const NOT_SHOWN: &str = "not shown, as it can hold credentials";
    match error {
        AuthError::AuthExecRun { out, .. } => {
            format!("the kubeconfig's exec credential plugin failed ({}); its output is {NOT_SHOWN}", out.status)
        }
        AuthError::AuthExecParse(_) | AuthError::ExecPluginFailed => {
            format!("the kubeconfig's exec credential plugin did not print a valid ExecCredential; its output is {NOT_SHOWN}")
        }
        AuthError::AuthExecStart(_)
        | AuthError::MissingCommand
        | AuthError::ExecMissingClusterInfo
        | AuthError::ReadTokenFile(..)
        | AuthError::UnrefreshableTokenResponse
        | AuthError::InvalidBasicAuth(_)
        | AuthError::InvalidBearerToken(_)
        | AuthError::NoValidNativeRootCA(_) => format!("kubeconfig credentials: {error}"),
        _ => format!("kubeconfig credentials could not be obtained; the details are {NOT_SHOWN}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(serde_json::from_value(serde_json::json!({"code": code, "message": message})).unwrap()))
    }

    #[test]
    fn throttling_that_outlasted_the_retries_is_an_access_error_that_says_so() {
        let throttled = Error::from_kube("server dry run of deployment/web", &answer(429, "Too many requests, please try again later."));
        assert_eq!(throttled.kind, ErrorKind::Access);
        assert_eq!(
            throttled.message,
            "server dry run of deployment/web: the API server is throttling requests (429 Too Many Requests: Too many requests, please try again later)"
        );
        assert_eq!(Error::from_kube_input("applying deployment/web", &answer(429, "slow down")).kind, ErrorKind::Access);
        assert_eq!(Error::from_kube("applying deployment/web", &answer(500, "etcdserver: leader changed")).kind, ErrorKind::Cluster);
    }
}
