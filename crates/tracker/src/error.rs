//! What can go wrong talking to a cluster, sorted by whose move it is: the user's input, the
//! cluster access, or the cluster itself.

/// Whose problem an [`Error`] is; the command line turns it into an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: an unreadable or invalid manifest, an unknown kind, a rejected dry run.
    Input,
    /// The cluster cannot be reached or refuses us (unreachable, unauthorized, forbidden).
    Access,
    /// The cluster answered with an error for a valid request.
    Cluster,
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

    /// Classifies a client error: 401/403 and transport failures are access errors, other
    /// API answers are the cluster's; `context` says what was being done.
    pub fn from_kube(context: &str, error: &kube::Error) -> Self {
        let message = format!("{context}: {}", describe(error));
        if is_access_error(error) { Self::access(message) } else { Self::cluster(message) }
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

/// Whether the error means we cannot talk to the cluster at all (as opposed to a refused request).
pub(crate) fn is_access_error(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 401 || status.code == 403,
        kube::Error::HyperError(_)
        | kube::Error::Service(_)
        | kube::Error::InferConfig(_)
        | kube::Error::InferKubeconfig(_)
        | kube::Error::Auth(_)
        | kube::Error::RustlsTls(_) => true,
        _ => false,
    }
}

/// The API server's own message where there is one, without kube's debug dump.
pub(crate) fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}
