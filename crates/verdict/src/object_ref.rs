//! Naming one object: `deployment/web`, `deploy/web`, `sts/db`, `Kind.group/name`, as kubectl does.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// One object of the cluster, by kind, namespace and name.
///
/// `kind` is the canonical kind (`Deployment`, `StatefulSet`, ...); for kinds outside the built-in
/// table it keeps what the user wrote, with the group when one was given (`Widget.example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

/// Why a `kind/name` argument could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object reference {input:?}: {problem} (expected KIND/NAME, e.g. deploy/web)")]
pub struct ObjectRefError {
    pub input: String,
    pub problem: &'static str,
}

/// kubectl's short names and plurals for the kinds rollwatch knows, lower-case, mapped to the kind.
const KIND_ALIASES: &[(&[&str], &str)] = &[
    (&["deployment", "deployments", "deploy"], "Deployment"),
    (&["statefulset", "statefulsets", "sts"], "StatefulSet"),
    (&["daemonset", "daemonsets", "ds"], "DaemonSet"),
    (&["replicaset", "replicasets", "rs"], "ReplicaSet"),
    (&["pod", "pods", "po"], "Pod"),
    (&["job", "jobs"], "Job"),
    (&["cronjob", "cronjobs", "cj"], "CronJob"),
    (&["service", "services", "svc"], "Service"),
    (&["persistentvolumeclaim", "persistentvolumeclaims", "pvc"], "PersistentVolumeClaim"),
    (&["ingress", "ingresses", "ing"], "Ingress"),
    (&["controllerrevision", "controllerrevisions"], "ControllerRevision"),
    (&["event", "events", "ev"], "Event"),
    (&["customresourcedefinition", "customresourcedefinitions", "crd", "crds"], "CustomResourceDefinition"),
    (&["poddisruptionbudget", "poddisruptionbudgets", "pdb"], "PodDisruptionBudget"),
];

/// The canonical kind for a kubectl-style kind word (`deploy`, `Deployments`, `deployment.apps`),
/// or the word itself when it is not a built-in kind.
pub fn canonical_kind(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let (bare, group) = lower.split_once('.').unwrap_or((lower.as_str(), ""));
    let builtin_group = matches!(group, "" | "apps" | "batch" | "networking.k8s.io" | "policy" | "apiextensions.k8s.io" | "events.k8s.io");
    if builtin_group {
        for (aliases, kind) in KIND_ALIASES {
            if aliases.contains(&bare) {
                return (*kind).to_string();
            }
        }
    }
    word.to_string()
}

impl ObjectRef {
    pub fn new(kind: impl Into<String>, namespace: Option<String>, name: impl Into<String>) -> Self {
        Self { kind: kind.into(), namespace, name: name.into() }
    }

    /// The same reference in `namespace` unless it already names one.
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace.get_or_insert_with(|| namespace.to_string());
        self
    }
}

impl FromStr for ObjectRef {
    type Err = ObjectRefError;

    /// Reads `KIND/NAME`; the namespace is left unset (the caller applies `-n`).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |problem| ObjectRefError { input: input.to_string(), problem };
        let (kind, name) = input.split_once('/').ok_or_else(|| error("missing '/'"))?;
        if kind.is_empty() {
            return Err(error("empty kind"));
        }
        if name.is_empty() || name.contains('/') {
            return Err(error("the name must be one non-empty path segment"));
        }
        Ok(Self::new(canonical_kind(kind), None, name))
    }
}

impl fmt::Display for ObjectRef {
    /// `deployment/web` in kubectl's lower-case style; the namespace is not part of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.to_ascii_lowercase(), self.name)
    }
}
