//! The kind registry: one row per API group and kind, in the spirit of kstatus's table and
//! kubectl's per-kind status viewers. A row says how the kind is named (plural, kubectl's short
//! names), where it is served, how its objects are parsed and judged, which related kinds its
//! verdict reads, and what a rollout of it can do (history, pause, restart, set image, duration
//! model). Every place that needs kind knowledge — the verdicts, the history, the estimates, the
//! tracker's feeds and endpoints, the CLI — reads it here, so a kind's name is written once.
//!
//! Adding a kind is one row here (and in [`KINDS`]) plus one viewer file in `src/kinds/`. A kind
//! without a row (a custom resource) is judged by the generic conditions viewer.

use serde_json::Value;

use crate::kinds::{self, Context};
use crate::snapshot::{Reader, Typed};
use crate::verdict::Verdict;

/// The verdict for one object of the kind.
pub(crate) type Viewer = fn(&Context) -> Verdict;

/// One kind as rollwatch knows it.
#[derive(Debug)]
pub struct Kind {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// The version every server rollwatch supports (v1.19 and later) serves it at, so it is
    /// reached without a discovery round trip; `None`: ask the server.
    pub version: Option<&'static str>,
    /// The resource name, lower-case plural (`deployments`).
    pub plural: &'static str,
    /// kubectl's short names (`deploy`).
    pub short_names: &'static [&'static str],
    /// Older groups that served the same kind (`extensions`), read as this row.
    pub legacy_groups: &'static [&'static str],
    pub namespaced: bool,
    /// Whether its objects have a status to wait for. Those without one (Secret, ConfigMap,
    /// RBAC) are ready once they exist: checked by a single GET, never listed or watched.
    pub has_status: bool,
    /// The kinds its verdict reads beside the object itself, in the same namespace.
    pub related: &'static [Related],
    /// Picked by `wait -l SELECTOR` when no kind is named: the workloads that roll out.
    pub selected_by_default: bool,
    /// Applied before the other objects of a set (namespaces first, then CRDs), lowest first.
    pub apply_stage: u8,
    pub rollout: Rollout,
    /// The typed form its objects are read into (at `version`); `None`: they are kept as JSON
    /// and read generically (conditions, observedGeneration).
    pub(crate) reader: Option<Reader>,
    /// `None`: the generic conditions viewer.
    pub(crate) view: Option<Viewer>,
}

/// A kind a verdict reads beside the object.
#[derive(Debug)]
pub struct Related {
    pub kind: &'static Kind,
    /// The verdict can do without it when access is denied (Events add detail to explanations,
    /// ControllerRevisions the revision history, Nodes the early failure of a pod too large for
    /// any of them; the workloads' and Pods' status carry it).
    pub optional: bool,
    /// A field selector: only these objects of it are read (`type=Warning` Events).
    pub fields: Option<&'static str>,
    /// From when the verdict reads it.
    pub needed: Needed,
}

/// From when a verdict reads a related kind. Each kind read is a LIST and a WATCH per namespace
/// (at 100 Deployments, 19 requests where one `kubectl rollout status` per Deployment makes 300),
/// so what only one rule reads, and only in a case most rollouts never meet, is read from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    /// From the start.
    Always,
    /// From the moment a pod of its namespace (of any, for a cluster-scoped kind) cannot be
    /// scheduled ([`crate::pods::scheduler_found_no_node`]): the Nodes and the cluster autoscaler's word
    /// matter to the unschedulable rule alone. Until they are listed, no verdict is given.
    OnceUnschedulable,
}

impl Needed {
    /// Whether `object`, just read from the cluster, makes a kind needed so worth reading.
    pub fn met_by(self, object: &crate::Decoded) -> bool {
        match self {
            Needed::Always => true,
            Needed::OnceUnschedulable => object.pod().is_some_and(|pod| crate::pods::scheduler_found_no_node(pod).is_some()),
        }
    }
}

/// What a rollout of the kind can do, as `kubectl rollout` and `kubectl set image` do it.
#[derive(Debug, Clone, Copy)]
pub struct Rollout {
    /// Where its revisions come from; `None`: no history (no undo, no restart).
    pub history: Option<History>,
    /// Can be paused and resumed (`spec.paused`).
    pub pausable: bool,
    /// Can be restarted through its pod template's `restartedAt` annotation.
    pub restartable: bool,
    /// The path to its pod spec, for `set image`; `None`: it has no pod template.
    pub pod_spec: Option<&'static [&'static str]>,
    /// How `plan` and the pace of a rollout model its duration; `None`: not modelled.
    pub model: Option<Model>,
}

/// Where a kind's revisions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// ReplicaSets numbered by their revision annotation; undone with a JSON patch of the template.
    ReplicaSets,
    /// ControllerRevisions holding the template; their pods are counted per revision, and undo is a
    /// strategic merge patch of the revision's data.
    ControllerRevisions,
}

impl History {
    /// The kind holding the revisions.
    pub fn kind(self) -> &'static Kind {
        match self {
            History::ReplicaSets => &REPLICA_SET,
            History::ControllerRevisions => &CONTROLLER_REVISION,
        }
    }
}

/// A rollout duration model of `rollwatch_verdict::estimate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Model {
    /// New and old ReplicaSets side by side within maxSurge / maxUnavailable.
    SurgeAndUnavailable,
    /// Pods replaced in ordinal order, from the highest, with partition and maxUnavailable.
    OrderedPods,
    /// One pod per node, replaced within maxUnavailable / maxSurge.
    PerNode,
}

/// The apply stage of most kinds: after namespaces (0) and CustomResourceDefinitions (1).
pub const DEFAULT_APPLY_STAGE: u8 = 2;

const NO_ROLLOUT: Rollout = Rollout { history: None, pausable: false, restartable: false, pod_spec: None, model: None };
const POD_TEMPLATE: &[&str] = &["spec", "template", "spec"];

/// A row's defaults: a namespaced kind without a status, read generically, with no rollout.
const STATUSLESS: Kind = Kind {
    group: "",
    kind: "",
    version: None,
    plural: "",
    short_names: &[],
    legacy_groups: &[],
    namespaced: true,
    has_status: false,
    related: &[],
    selected_by_default: false,
    apply_stage: DEFAULT_APPLY_STAGE,
    rollout: NO_ROLLOUT,
    reader: None,
    view: None,
};

/// A row's defaults for a kind whose status is read by the generic conditions viewer.
const WITH_STATUS: Kind = Kind { has_status: true, ..STATUSLESS };

/// A viewer reading the row's own typed form (which its parser made).
macro_rules! viewer {
    ($variant:ident, $view:path) => {
        Some(|ctx| match &ctx.stored.typed {
            Typed::$variant(object) => $view(ctx, object),
            _ => kinds::view_generic(ctx),
        })
    };
}

/// Only Warning Events are read: the verdicts and explanations read nothing else of them (probe
/// failures, pull errors, back-offs, failed creations), and the Normal ones — Scheduled, Pulling,
/// Pulled, Created, Started for every pod — are most of a namespace's Events, so fetching them
/// would cost the API server, the network and rollwatch's memory for nothing.
const EVENTS: Related = Related { kind: &EVENT, optional: true, fields: Some("type=Warning"), needed: Needed::Always };
/// But for the cluster autoscaler's word on an unschedulable pod, which comes as Normal Events
/// (`NotTriggerScaleUp`, `TriggeredScaleUp`), few and only where one runs.
const AUTOSCALER_EVENTS: Related =
    Related { kind: &EVENT, optional: true, fields: Some(crate::capacity::AUTOSCALER_EVENT_SELECTOR), needed: Needed::OnceUnschedulable };
/// And for kubelet's word that it kills a container (`Killing`, Normal, one per container stopped):
/// it says a container is being restarted before the pod's status does.
const KILLING_EVENTS: Related = Related { kind: &EVENT, optional: true, fields: Some(crate::pods::KILLING_EVENT_SELECTOR), needed: Needed::Always };
/// The Nodes, whose allocatable tells a pod that no node can ever hold (cluster-scoped: a
/// namespaced role cannot read them).
const NODES: Related = Related { kind: &NODE, optional: true, fields: None, needed: Needed::OnceUnschedulable };
const PODS: Related = Related { kind: &POD, optional: false, fields: None, needed: Needed::Always };
/// What a verdict that reads pods reads about them: their warnings, and whether they can be placed.
const ABOUT_PODS: [Related; 5] = [PODS, EVENTS, AUTOSCALER_EVENTS, KILLING_EVENTS, NODES];
/// A StatefulSet's or DaemonSet's: its revisions too (optional: they give the history).
const REVISIONS_AND_ABOUT_PODS: [Related; 6] =
    [Related { kind: &CONTROLLER_REVISION, optional: true, fields: None, needed: Needed::Always }, PODS, EVENTS, AUTOSCALER_EVENTS, KILLING_EVENTS, NODES];

pub const DEPLOYMENT: Kind = Kind {
    group: "apps",
    kind: "Deployment",
    version: Some("v1"),
    plural: "deployments",
    short_names: &["deploy"],
    legacy_groups: &["extensions"],
    related: &[Related { kind: &REPLICA_SET, optional: false, fields: None, needed: Needed::Always }, PODS, EVENTS, AUTOSCALER_EVENTS, KILLING_EVENTS, NODES],
    selected_by_default: true,
    rollout: Rollout {
        history: Some(History::ReplicaSets),
        pausable: true,
        restartable: true,
        pod_spec: Some(POD_TEMPLATE),
        model: Some(Model::SurgeAndUnavailable),
    },
    reader: Some(Reader::Deployment),
    view: viewer!(Deployment, kinds::deployment::view),
    ..WITH_STATUS
};

pub const STATEFUL_SET: Kind = Kind {
    group: "apps",
    kind: "StatefulSet",
    version: Some("v1"),
    plural: "statefulsets",
    short_names: &["sts"],
    related: &REVISIONS_AND_ABOUT_PODS,
    selected_by_default: true,
    rollout: Rollout {
        history: Some(History::ControllerRevisions),
        pausable: false,
        restartable: true,
        pod_spec: Some(POD_TEMPLATE),
        model: Some(Model::OrderedPods),
    },
    reader: Some(Reader::StatefulSet),
    view: viewer!(StatefulSet, kinds::statefulset::view),
    ..WITH_STATUS
};

pub const DAEMON_SET: Kind = Kind {
    group: "apps",
    kind: "DaemonSet",
    version: Some("v1"),
    plural: "daemonsets",
    short_names: &["ds"],
    legacy_groups: &["extensions"],
    related: &REVISIONS_AND_ABOUT_PODS,
    selected_by_default: true,
    rollout: Rollout {
        history: Some(History::ControllerRevisions),
        pausable: false,
        restartable: true,
        pod_spec: Some(POD_TEMPLATE),
        model: Some(Model::PerNode),
    },
    reader: Some(Reader::DaemonSet),
    view: viewer!(DaemonSet, kinds::daemonset::view),
    ..WITH_STATUS
};

pub const REPLICA_SET: Kind = Kind {
    group: "apps",
    kind: "ReplicaSet",
    version: Some("v1"),
    plural: "replicasets",
    short_names: &["rs"],
    legacy_groups: &["extensions"],
    related: &ABOUT_PODS,
    rollout: Rollout { pod_spec: Some(POD_TEMPLATE), ..NO_ROLLOUT },
    reader: Some(Reader::ReplicaSet),
    view: viewer!(ReplicaSet, kinds::replicaset::view),
    ..WITH_STATUS
};

pub const CONTROLLER_REVISION: Kind = Kind {
    group: "apps",
    kind: "ControllerRevision",
    version: Some("v1"),
    plural: "controllerrevisions",
    reader: Some(Reader::ControllerRevision),
    view: Some(kinds::view_nothing_to_wait_for),
    ..STATUSLESS
};

pub const POD: Kind = Kind {
    kind: "Pod",
    version: Some("v1"),
    plural: "pods",
    short_names: &["po"],
    related: &[EVENTS, AUTOSCALER_EVENTS, KILLING_EVENTS, NODES],
    rollout: Rollout { pod_spec: Some(&["spec"]), ..NO_ROLLOUT },
    reader: Some(Reader::Pod),
    view: viewer!(Pod, kinds::pod::view),
    ..WITH_STATUS
};

pub const JOB: Kind = Kind {
    group: "batch",
    kind: "Job",
    version: Some("v1"),
    plural: "jobs",
    related: &ABOUT_PODS,
    selected_by_default: true,
    rollout: Rollout { pod_spec: Some(POD_TEMPLATE), ..NO_ROLLOUT },
    reader: Some(Reader::Job),
    view: viewer!(Job, kinds::job::view),
    ..WITH_STATUS
};

pub const CRON_JOB: Kind = Kind {
    group: "batch",
    kind: "CronJob",
    // batch/v1 since 1.21, batch/v1beta1 before.
    version: None,
    plural: "cronjobs",
    short_names: &["cj"],
    rollout: Rollout { pod_spec: Some(&["spec", "jobTemplate", "spec", "template", "spec"]), ..NO_ROLLOUT },
    reader: Some(Reader::CronJob),
    view: viewer!(CronJob, kinds::job::view_cron),
    ..WITH_STATUS
};

pub const SERVICE: Kind = Kind {
    kind: "Service",
    version: Some("v1"),
    plural: "services",
    short_names: &["svc"],
    reader: Some(Reader::Service),
    view: viewer!(Service, kinds::service::view_service),
    ..WITH_STATUS
};

pub const PERSISTENT_VOLUME_CLAIM: Kind = Kind {
    kind: "PersistentVolumeClaim",
    version: Some("v1"),
    plural: "persistentvolumeclaims",
    short_names: &["pvc"],
    related: &[EVENTS],
    reader: Some(Reader::PersistentVolumeClaim),
    view: viewer!(PersistentVolumeClaim, kinds::service::view_claim),
    ..WITH_STATUS
};

pub const INGRESS: Kind = Kind {
    group: "networking.k8s.io",
    kind: "Ingress",
    version: Some("v1"),
    plural: "ingresses",
    short_names: &["ing"],
    legacy_groups: &["extensions"],
    reader: Some(Reader::Ingress),
    view: viewer!(Ingress, kinds::service::view_ingress),
    ..WITH_STATUS
};

pub const EVENT: Kind = Kind {
    kind: "Event",
    version: Some("v1"),
    plural: "events",
    short_names: &["ev"],
    reader: Some(Reader::Event),
    view: Some(kinds::view_nothing_to_wait_for),
    ..STATUSLESS
};

/// Its `status.allocatable` bounds what a pod can request.
pub const NODE: Kind = Kind { kind: "Node", version: Some("v1"), plural: "nodes", short_names: &["no"], namespaced: false, ..WITH_STATUS };

pub const NAMESPACE: Kind =
    Kind { kind: "Namespace", version: Some("v1"), plural: "namespaces", short_names: &["ns"], namespaced: false, apply_stage: 0, ..WITH_STATUS };

pub const CUSTOM_RESOURCE_DEFINITION: Kind = Kind {
    group: "apiextensions.k8s.io",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    short_names: &["crd", "crds"],
    namespaced: false,
    apply_stage: 1,
    view: Some(kinds::crd::view),
    ..WITH_STATUS
};

pub const HORIZONTAL_POD_AUTOSCALER: Kind = Kind {
    group: "autoscaling",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    short_names: &["hpa"],
    view: Some(kinds::autoscaler::view),
    ..WITH_STATUS
};

pub const API_SERVICE: Kind =
    Kind { group: "apiregistration.k8s.io", kind: "APIService", plural: "apiservices", namespaced: false, view: Some(kinds::apiservice::view), ..WITH_STATUS };

/// Every kind rollwatch knows. A kind of one of these groups that is not here is a typo
/// (`Deploymnet`), not a custom resource: reported, not guessed at.
pub static KINDS: &[&Kind] = &[
    &DEPLOYMENT,
    &STATEFUL_SET,
    &DAEMON_SET,
    &REPLICA_SET,
    &CONTROLLER_REVISION,
    &POD,
    &JOB,
    &CRON_JOB,
    &SERVICE,
    &PERSISTENT_VOLUME_CLAIM,
    &INGRESS,
    &EVENT,
    &NAMESPACE,
    &CUSTOM_RESOURCE_DEFINITION,
    &HORIZONTAL_POD_AUTOSCALER,
    &API_SERVICE,
    // The rest of the kinds Kubernetes serves (v1.20 to v1.33), by group.
    &Kind { kind: "ConfigMap", version: Some("v1"), plural: "configmaps", short_names: &["cm"], ..STATUSLESS },
    &Kind { kind: "Secret", version: Some("v1"), plural: "secrets", ..STATUSLESS },
    &Kind { kind: "ServiceAccount", version: Some("v1"), plural: "serviceaccounts", short_names: &["sa"], ..STATUSLESS },
    &Kind { kind: "Endpoints", version: Some("v1"), plural: "endpoints", short_names: &["ep"], ..STATUSLESS },
    &Kind { kind: "LimitRange", version: Some("v1"), plural: "limitranges", short_names: &["limits"], ..STATUSLESS },
    &Kind { kind: "PodTemplate", version: Some("v1"), plural: "podtemplates", ..STATUSLESS },
    &Kind { kind: "ResourceQuota", version: Some("v1"), plural: "resourcequotas", short_names: &["quota"], ..WITH_STATUS },
    &Kind { kind: "ReplicationController", version: Some("v1"), plural: "replicationcontrollers", short_names: &["rc"], ..WITH_STATUS },
    &Kind { kind: "PersistentVolume", version: Some("v1"), plural: "persistentvolumes", short_names: &["pv"], namespaced: false, ..WITH_STATUS },
    &NODE,
    &Kind { kind: "ComponentStatus", version: Some("v1"), plural: "componentstatuses", short_names: &["cs"], namespaced: false, ..STATUSLESS },
    &Kind { kind: "Binding", version: Some("v1"), plural: "bindings", ..STATUSLESS },
    &Kind { group: "autoscaling", kind: "Scale", plural: "scale", ..WITH_STATUS },
    &Kind { group: "policy", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", short_names: &["pdb"], ..WITH_STATUS },
    &Kind { group: "policy", kind: "Eviction", plural: "evictions", ..STATUSLESS },
    &Kind {
        group: "policy",
        kind: "PodSecurityPolicy",
        plural: "podsecuritypolicies",
        short_names: &["psp"],
        legacy_groups: &["extensions"],
        namespaced: false,
        ..STATUSLESS
    },
    &Kind { group: "networking.k8s.io", kind: "IngressClass", plural: "ingressclasses", namespaced: false, ..STATUSLESS },
    &Kind {
        group: "networking.k8s.io",
        kind: "NetworkPolicy",
        plural: "networkpolicies",
        short_names: &["netpol"],
        legacy_groups: &["extensions"],
        ..STATUSLESS
    },
    &Kind { group: "networking.k8s.io", kind: "IPAddress", plural: "ipaddresses", short_names: &["ip"], namespaced: false, ..STATUSLESS },
    &Kind { group: "networking.k8s.io", kind: "ServiceCIDR", plural: "servicecidrs", namespaced: false, ..WITH_STATUS },
    &Kind { group: "rbac.authorization.k8s.io", kind: "Role", version: Some("v1"), plural: "roles", ..STATUSLESS },
    &Kind { group: "rbac.authorization.k8s.io", kind: "RoleBinding", version: Some("v1"), plural: "rolebindings", ..STATUSLESS },
    &Kind { group: "rbac.authorization.k8s.io", kind: "ClusterRole", version: Some("v1"), plural: "clusterroles", namespaced: false, ..STATUSLESS },
    &Kind {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        version: Some("v1"),
        plural: "clusterrolebindings",
        namespaced: false,
        ..STATUSLESS
    },
    &Kind {
        group: "storage.k8s.io",
        kind: "StorageClass",
        version: Some("v1"),
        plural: "storageclasses",
        short_names: &["sc"],
        namespaced: false,
        ..STATUSLESS
    },
    &Kind { group: "storage.k8s.io", kind: "CSIDriver", plural: "csidrivers", namespaced: false, ..STATUSLESS },
    &Kind { group: "storage.k8s.io", kind: "CSINode", plural: "csinodes", namespaced: false, ..STATUSLESS },
    &Kind { group: "storage.k8s.io", kind: "CSIStorageCapacity", plural: "csistoragecapacities", ..STATUSLESS },
    &Kind { group: "storage.k8s.io", kind: "VolumeAttachment", plural: "volumeattachments", namespaced: false, ..WITH_STATUS },
    &Kind { group: "storage.k8s.io", kind: "VolumeAttributesClass", plural: "volumeattributesclasses", namespaced: false, ..STATUSLESS },
    &Kind {
        group: "admissionregistration.k8s.io",
        kind: "MutatingWebhookConfiguration",
        plural: "mutatingwebhookconfigurations",
        namespaced: false,
        ..STATUSLESS
    },
    &Kind {
        group: "admissionregistration.k8s.io",
        kind: "ValidatingWebhookConfiguration",
        plural: "validatingwebhookconfigurations",
        namespaced: false,
        ..STATUSLESS
    },
    &Kind { group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicy", plural: "validatingadmissionpolicies", namespaced: false, ..WITH_STATUS },
    &Kind {
        group: "admissionregistration.k8s.io",
        kind: "ValidatingAdmissionPolicyBinding",
        plural: "validatingadmissionpolicybindings",
        namespaced: false,
        ..STATUSLESS
    },
    &Kind { group: "admissionregistration.k8s.io", kind: "MutatingAdmissionPolicy", plural: "mutatingadmissionpolicies", namespaced: false, ..WITH_STATUS },
    &Kind {
        group: "admissionregistration.k8s.io",
        kind: "MutatingAdmissionPolicyBinding",
        plural: "mutatingadmissionpolicybindings",
        namespaced: false,
        ..STATUSLESS
    },
    &Kind {
        group: "scheduling.k8s.io",
        kind: "PriorityClass",
        version: Some("v1"),
        plural: "priorityclasses",
        short_names: &["pc"],
        namespaced: false,
        ..STATUSLESS
    },
    &Kind { group: "coordination.k8s.io", kind: "Lease", plural: "leases", ..STATUSLESS },
    &Kind { group: "discovery.k8s.io", kind: "EndpointSlice", plural: "endpointslices", ..STATUSLESS },
    &Kind { group: "events.k8s.io", kind: "Event", plural: "events", short_names: &["ev"], ..STATUSLESS },
    &Kind { group: "node.k8s.io", kind: "RuntimeClass", plural: "runtimeclasses", namespaced: false, ..STATUSLESS },
    &Kind {
        group: "certificates.k8s.io",
        kind: "CertificateSigningRequest",
        plural: "certificatesigningrequests",
        short_names: &["csr"],
        namespaced: false,
        ..WITH_STATUS
    },
    &Kind { group: "certificates.k8s.io", kind: "ClusterTrustBundle", plural: "clustertrustbundles", namespaced: false, ..STATUSLESS },
    &Kind { group: "flowcontrol.apiserver.k8s.io", kind: "FlowSchema", plural: "flowschemas", namespaced: false, ..WITH_STATUS },
    &Kind {
        group: "flowcontrol.apiserver.k8s.io",
        kind: "PriorityLevelConfiguration",
        plural: "prioritylevelconfigurations",
        namespaced: false,
        ..WITH_STATUS
    },
];

/// Rows are the same kind when group and kind are (a `const` row has no one address).
impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        self.group == other.group && self.kind == other.kind
    }
}

impl Eq for Kind {}

impl Kind {
    /// Whether this row is served from `group` (its own group or a legacy one).
    pub fn served_from(&self, group: &str) -> bool {
        self.group == group || self.legacy_groups.contains(&group)
    }

    /// Whether `word` names it as kubectl accepts: the kind, its plural or a short name, in any case.
    pub fn named_by(&self, word: &str) -> bool {
        word.eq_ignore_ascii_case(self.kind) || word.eq_ignore_ascii_case(self.plural) || self.short_names.iter().any(|short| word.eq_ignore_ascii_case(short))
    }
}

/// The row of `kind` served from `group` (legacy groups included).
pub fn find(group: &str, kind: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|row| row.kind == kind && row.served_from(group))
}

/// The row of an object as JSON, by its `apiVersion` and `kind`; without an apiVersion, the kind
/// is taken for Kubernetes' own.
pub fn of_object(object: &Value) -> Option<&'static Kind> {
    let kind = object.get("kind")?.as_str()?;
    match object.get("apiVersion").and_then(Value::as_str) {
        Some(api_version) => find(api_version.rsplit_once('/').map_or("", |(group, _)| group), kind),
        None => by_kind(kind),
    }
}

/// The row of a kind named without its group: Kubernetes' own, the first group serving a kind of
/// that name (core before the others, as listed).
pub fn by_kind(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|row| row.kind == kind)
}

/// The row a kubectl-style resource word names (`deploy`, `Deployments`), in `group` when one is
/// given, else the first of Kubernetes' own groups that has it (core, then `apps`, ... as listed).
pub fn named(word: &str, group: Option<&str>) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|row| row.named_by(word) && group.is_none_or(|group| row.served_from(group)))
}

/// Whether Kubernetes itself serves `group` (a kind of it without a row is a typo).
pub fn is_builtin_group(group: &str) -> bool {
    KINDS.iter().any(|row| row.served_from(group))
}

/// Kubernetes' own groups with a dot in their name that serve no kind with a row (reviews,
/// metrics, ...): no CustomResourceDefinition serves them either.
const OTHER_KUBERNETES_GROUPS: &[&str] =
    &["authentication.k8s.io", "authorization.k8s.io", "internal.apiserver.k8s.io", "metrics.k8s.io", "resource.k8s.io", "storagemigration.k8s.io"];

/// Whether `group` may be served by a CustomResourceDefinition: it has a dot (as CRD groups must)
/// and is not one of Kubernetes' own (CRD groups under k8s.io, such as `gateway.networking.k8s.io`
/// or `cluster.x-k8s.io`, are custom).
pub fn is_custom_group(group: &str) -> bool {
    group.contains('.') && !is_builtin_group(group) && !OTHER_KUBERNETES_GROUPS.contains(&group)
}

/// The kinds Kubernetes serves from `group`, for an error message.
pub fn kinds_of_group(group: &str) -> Vec<&'static str> {
    let mut kinds: Vec<&str> = KINDS.iter().filter(|row| row.served_from(group)).map(|row| row.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_group_and_kind_has_one_row_and_each_word_one_meaning_per_group() {
        for (index, row) in KINDS.iter().enumerate() {
            for other in &KINDS[index + 1..] {
                assert!(!(row.kind == other.kind && row.group == other.group), "two rows for {}.{}", row.kind, row.group);
            }
            assert!(row.plural.chars().all(|c| c.is_ascii_lowercase()), "{}: plural {:?}", row.kind, row.plural);
        }
    }

    #[test]
    fn words_name_kinds_as_kubectl_reads_them() {
        assert_eq!(named("hpa", None).map(|k| k.kind), Some("HorizontalPodAutoscaler"));
        assert_eq!(named("Deployments", Some("apps")).map(|k| k.group), Some("apps"));
        assert_eq!(named("deploy", Some("extensions")).map(|k| k.kind), Some("Deployment"));
        assert!(named("deployment", Some("example.com")).is_none(), "a custom resource of the same name");
        assert_eq!(named("ev", None).map(|k| k.group), Some(""), "core Events before events.k8s.io's");
        assert_eq!(find("extensions", "Ingress").map(|k| k.group), Some("networking.k8s.io"));
    }

    #[test]
    fn what_the_unschedulable_rule_alone_reads_is_needed_from_a_pod_the_scheduler_cannot_place_on() {
        let pod = |conditions: serde_json::Value| {
            let object = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "status": {"conditions": conditions}});
            crate::Decoded::from_value(object).unwrap()
        };
        let unschedulable = pod(serde_json::json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]));
        let scheduled = pod(serde_json::json!([{"type": "PodScheduled", "status": "True"}]));
        let gated = pod(serde_json::json!([{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]));
        assert!(Needed::OnceUnschedulable.met_by(&unschedulable));
        assert!(!Needed::OnceUnschedulable.met_by(&scheduled) && !Needed::OnceUnschedulable.met_by(&gated));
        assert!(Needed::Always.met_by(&scheduled));
    }

    #[test]
    fn statusless_kinds_are_known_and_workloads_read_their_related_kinds() {
        for kind in ["Secret", "ConfigMap", "ServiceAccount"] {
            assert!(!find("", kind).unwrap().has_status, "{kind}");
        }
        for kind in ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"] {
            assert!(!find("rbac.authorization.k8s.io", kind).unwrap().has_status, "{kind}");
        }
        let related: Vec<(&str, Option<&str>)> = DEPLOYMENT.related.iter().map(|r| (r.kind.kind, r.fields)).collect();
        assert_eq!(
            related,
            [
                ("ReplicaSet", None),
                ("Pod", None),
                ("Event", Some("type=Warning")),
                ("Event", Some("source=cluster-autoscaler")),
                ("Event", Some("reason=Killing")),
                ("Node", None)
            ]
        );
        let of_pod: Vec<&str> = POD.related.iter().map(|r| r.kind.kind).collect();
        assert_eq!(of_pod, ["Event", "Event", "Event", "Node"], "a pod's verdict reads whether any node can hold it");
        assert!(STATEFUL_SET.related.iter().all(|r| r.optional != (*r.kind == POD)), "only Pods are needed");
        let later: Vec<(&str, Option<&str>)> = DEPLOYMENT.related.iter().filter(|r| r.needed != Needed::Always).map(|r| (r.kind.kind, r.fields)).collect();
        assert_eq!(later, [("Event", Some("source=cluster-autoscaler")), ("Node", None)], "what the unschedulable rule alone reads");
    }
}
