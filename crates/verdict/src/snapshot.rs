//! An indexed, in-memory set of cluster objects, and the verdict for one workload among them.
//!
//! Objects are parsed once, on [`Snapshot::upsert`], into k8s-openapi types (kinds rollwatch has a
//! rule for) or kept as JSON (any other kind). Children are indexed by their owners' uids and
//! Events by the object they are about, so a verdict reads only the workload's own family.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::capacity::{self, Autoscaler, Resources};
use crate::kinds::{self, GenericStatus};
use crate::no_progress;
use crate::parse::json_type;
use crate::{ObjectRef, Policy, State, Verdict};

/// Why an object could not be taken in; names the object and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object}: field {field}: {problem}")]
pub struct ObjectError {
    /// `kind/name` as far as it could be read, else `object`.
    pub object: String,
    /// Path of the field at fault (`status.replicas`).
    pub field: String,
    pub problem: String,
}

/// An object parsed into the type its rules read.
#[derive(Debug, Clone)]
pub(crate) enum Typed {
    Deployment(Box<Deployment>),
    ReplicaSet(Box<ReplicaSet>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    ControllerRevision(Box<ControllerRevision>),
    Pod(Box<Pod>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
    Service(Box<Service>),
    PersistentVolumeClaim(Box<PersistentVolumeClaim>),
    Ingress(Box<Ingress>),
    Event(Box<Event>),
    /// Any other kind: the rules read its conditions and observedGeneration from the JSON.
    Generic(Box<Generic>),
}

/// An object of a kind without typed rules: only what the generic rules read is kept.
#[derive(Debug, Clone)]
pub(crate) struct Generic {
    pub metadata: ObjectMeta,
    pub status: Option<GenericStatus>,
}

impl Typed {
    pub fn metadata(&self) -> &ObjectMeta {
        use k8s_openapi::Metadata;
        match self {
            Typed::Deployment(o) => o.metadata(),
            Typed::ReplicaSet(o) => o.metadata(),
            Typed::StatefulSet(o) => o.metadata(),
            Typed::DaemonSet(o) => o.metadata(),
            Typed::ControllerRevision(o) => o.metadata(),
            Typed::Pod(o) => o.metadata(),
            Typed::Job(o) => o.metadata(),
            Typed::CronJob(o) => o.metadata(),
            Typed::Service(o) => o.metadata(),
            Typed::PersistentVolumeClaim(o) => o.metadata(),
            Typed::Ingress(o) => o.metadata(),
            Typed::Event(o) => o.metadata(),
            Typed::Generic(o) => &o.metadata,
        }
    }
}

/// One stored object with what its indexes were built from.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub typed: Typed,
    pub uid: Option<String>,
    /// Uids of its owners (ownerReferences).
    pub owners: Vec<String>,
    /// For Events: the object the event is about.
    pub involved: Option<ObjectRef>,
    pub deleting: bool,
    /// The API group from apiVersion (`""` for core or when absent), to resolve `Kind.group/name`.
    pub group: String,
}

/// How a built-in kind is recognised and parsed: kind, the API groups it is served from, parser.
type Parser = fn(Value) -> Result<Typed, serde_path_to_error::Error<serde_json::Error>>;
const BUILTIN_KINDS: &[(&str, &[&str], Parser)] = &[
    ("Deployment", &["apps", "extensions"], |v| typed(v).map(Typed::Deployment)),
    ("ReplicaSet", &["apps", "extensions"], |v| typed(v).map(Typed::ReplicaSet)),
    ("StatefulSet", &["apps"], |v| typed(v).map(Typed::StatefulSet)),
    ("DaemonSet", &["apps", "extensions"], |v| typed(v).map(Typed::DaemonSet)),
    ("ControllerRevision", &["apps"], |v| typed(v).map(Typed::ControllerRevision)),
    ("Pod", &[""], |v| typed(without_unread_pod_fields(v)).map(Typed::Pod)),
    ("Job", &["batch"], |v| typed(v).map(Typed::Job)),
    ("CronJob", &["batch"], |v| typed(v).map(Typed::CronJob)),
    ("Service", &[""], |v| typed(v).map(Typed::Service)),
    ("PersistentVolumeClaim", &[""], |v| typed(v).map(Typed::PersistentVolumeClaim)),
    ("Ingress", &["networking.k8s.io", "extensions"], |v| typed(v).map(Typed::Ingress)),
    ("Event", &[""], |v| typed(v).map(Typed::Event)),
];

/// The kinds served by Kubernetes' own API groups (v1.20 to v1.33). A kind outside this list under
/// one of these groups is a typo (`Deploymnet`), not a custom resource: reported, not guessed at.
const BUILTIN_GROUPS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "Binding",
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    ("apps", &["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"]),
    ("batch", &["CronJob", "Job"]),
    ("autoscaling", &["HorizontalPodAutoscaler", "Scale"]),
    ("policy", &["Eviction", "PodDisruptionBudget", "PodSecurityPolicy"]),
    ("networking.k8s.io", &["Ingress", "IngressClass", "NetworkPolicy", "IPAddress", "ServiceCIDR"]),
    ("extensions", &["DaemonSet", "Deployment", "Ingress", "NetworkPolicy", "PodSecurityPolicy", "ReplicaSet"]),
    ("rbac.authorization.k8s.io", &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]),
    ("storage.k8s.io", &["CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment", "VolumeAttributesClass"]),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    (
        "admissionregistration.k8s.io",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
        ],
    ),
    ("apiregistration.k8s.io", &["APIService"]),
    ("scheduling.k8s.io", &["PriorityClass"]),
    ("coordination.k8s.io", &["Lease"]),
    ("discovery.k8s.io", &["EndpointSlice"]),
    ("events.k8s.io", &["Event"]),
    ("node.k8s.io", &["RuntimeClass"]),
    ("certificates.k8s.io", &["CertificateSigningRequest", "ClusterTrustBundle"]),
    ("flowcontrol.apiserver.k8s.io", &["FlowSchema", "PriorityLevelConfiguration"]),
];

/// A Pod without the parts no rule reads that every Pod carries: volumes (the service account's
/// token at least), tolerations, affinity, and the containers' environment and mounts. Typed, a
/// volume alone is 3 KB; with thousands of Pods tracked these parts were a third of their memory.
fn without_unread_pod_fields(mut pod: Value) -> Value {
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        for unread in ["volumes", "tolerations", "affinity"] {
            spec.remove(unread);
        }
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for container in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut) {
                for unread in ["env", "envFrom", "volumeMounts"] {
                    container.remove(unread);
                }
            }
        }
    }
    pod
}

fn typed<T: DeserializeOwned>(value: Value) -> Result<Box<T>, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(value).map(Box::new)
}

/// Cluster objects of any kind, indexed for verdicts.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    objects: HashMap<ObjectRef, Stored>,
    by_uid: HashMap<String, ObjectRef>,
    /// Owner uid → objects that name it in their ownerReferences.
    children: HashMap<String, BTreeSet<ObjectRef>>,
    /// Object → Events about it.
    events: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
    /// Each Node's allocatable, by node name: what a pod can request at most.
    nodes: BTreeMap<String, Resources>,
    /// Whether a cluster autoscaler runs, as the caller found out.
    autoscaler: Autoscaler,
}

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces one object (matched by kind, namespace and name).
    pub fn upsert(&mut self, object: Value) -> Result<(), ObjectError> {
        let allocatable = (object.get("kind").and_then(Value::as_str) == Some(capacity::NODE_KIND)).then(|| capacity::allocatable(&object));
        let (key, stored) = parse_object(object)?;
        let allocatable = match allocatable {
            Some(Ok(room)) if stored.group.is_empty() => Some(room),
            Some(Err((field, problem))) if stored.group.is_empty() => return Err(ObjectError { object: key.to_string(), field, problem }),
            _ => None,
        };
        self.remove(&key);
        if let Some(room) = allocatable {
            self.nodes.insert(key.name.clone(), room);
        }
        if let Some(uid) = &stored.uid {
            self.by_uid.insert(uid.clone(), key.clone());
        }
        for owner in &stored.owners {
            self.children.entry(owner.clone()).or_default().insert(key.clone());
        }
        if let Some(involved) = &stored.involved {
            self.events.entry(involved.clone()).or_default().insert(key.clone());
        }
        self.objects.insert(key, stored);
        Ok(())
    }

    /// Removes one object; returns whether it was there.
    pub fn remove(&mut self, object: &ObjectRef) -> bool {
        let Some(stored) = self.objects.remove(object) else { return false };
        if object.kind == capacity::NODE_KIND && stored.group.is_empty() {
            self.nodes.remove(&object.name);
        }
        if let Some(uid) = &stored.uid {
            self.by_uid.remove(uid);
        }
        for owner in &stored.owners {
            remove_from_index(&mut self.children, owner, object);
        }
        if let Some(involved) = &stored.involved {
            remove_from_index(&mut self.events, involved, object);
        }
        true
    }

    /// Removes the object with this uid; returns whether it was there.
    pub fn remove_uid(&mut self, uid: &str) -> bool {
        match self.by_uid.get(uid).cloned() {
            Some(object) => self.remove(&object),
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn contains(&self, object: &ObjectRef) -> bool {
        self.objects.contains_key(object)
    }

    /// Every stored object that rollwatch gives a verdict for by itself: workloads and other
    /// top-level objects, not the children (ReplicaSets, Pods, ControllerRevisions owned by a
    /// stored object) nor Events. Sorted, for stable output.
    pub fn workloads(&self) -> Vec<ObjectRef> {
        let mut found: Vec<ObjectRef> = self
            .objects
            .iter()
            .filter(|(_, stored)| !matches!(stored.typed, Typed::Event(_) | Typed::ControllerRevision(_)))
            .filter(|(_, stored)| !stored.owners.iter().any(|owner| self.by_uid.contains_key(owner)))
            .map(|(key, _)| key.clone())
            .collect();
        found.sort();
        found
    }

    /// The workloads whose verdict may change when `object` changes: the object itself and its
    /// owners up the chain (Pod → ReplicaSet → Deployment); for an Event, those of the object it
    /// is about. Call it before [`Snapshot::remove`] for a deletion.
    pub fn workloads_affected_by(&self, object: &ObjectRef) -> Vec<ObjectRef> {
        let mut affected = Vec::new();
        let start = match self.objects.get(object).and_then(|stored| stored.involved.clone()) {
            Some(involved) => involved,
            None => object.clone(),
        };
        let mut pending = vec![start];
        while let Some(current) = pending.pop() {
            if affected.contains(&current) {
                continue;
            }
            if let Some(stored) = self.objects.get(&current) {
                pending.extend(stored.owners.iter().filter_map(|uid| self.by_uid.get(uid).cloned()));
            }
            affected.push(current);
        }
        affected
    }

    /// The verdict for one object, with `policy`'s tolerances, as of `now`.
    ///
    /// `object` may name the kind as a user would (`widget/w`, `widgets.example.com/w`): kinds
    /// outside kubectl's built-in table are matched without regard to case, plural or group.
    ///
    /// With the policy's `no_progress_timeout`, the newest timestamp in the statuses of the object
    /// and its pods tells when it last changed (offline, nothing else does).
    pub fn verdict(&self, object: &ObjectRef, policy: &Policy, now: Timestamp) -> Verdict {
        self.judge(object, policy, now, no_progress::newest_status_time)
    }

    /// Like [`Snapshot::verdict`], with when the status of the object or its pods last changed
    /// as the caller saw it (a tracker, on its own clock) instead of the statuses' timestamps.
    pub fn verdict_observed(&self, object: &ObjectRef, policy: &Policy, now: Timestamp, last_change: Timestamp) -> Verdict {
        self.judge(object, policy, now, |_, _| Some(last_change))
    }

    fn judge(&self, object: &ObjectRef, policy: &Policy, now: Timestamp, last_change: impl FnOnce(&Self, &ObjectRef) -> Option<Timestamp>) -> Verdict {
        let Some((object, stored)) = self.resolve(object) else {
            return Verdict::new(State::NotFound, format!("{object} not found"));
        };
        if stored.deleting {
            return Verdict::new(State::Terminating, format!("{object} is being deleted"));
        }
        let verdict = kinds::view(&kinds::Context { snapshot: self, object, stored, policy, now });
        match policy.no_progress_timeout {
            Some(timeout) => no_progress::judge(self, object, verdict, timeout, last_change(self, object), now),
            None => verdict,
        }
    }

    /// Says whether a cluster autoscaler runs (its status ConfigMap was found, or not); a
    /// snapshot that holds the ConfigMap itself knows.
    pub fn set_autoscaler(&mut self, autoscaler: Autoscaler) {
        self.autoscaler = autoscaler;
    }

    /// Whether a cluster autoscaler may add a node.
    pub(crate) fn autoscaler(&self) -> Autoscaler {
        let (namespace, name) = capacity::AUTOSCALER_STATUS;
        let status = ObjectRef::new("ConfigMap", Some(namespace.to_string()), name);
        if self.objects.contains_key(&status) { Autoscaler::Present } else { self.autoscaler }
    }

    /// Each Node's allocatable, by node name.
    pub fn node_allocatable(&self) -> &BTreeMap<String, Resources> {
        &self.nodes
    }

    /// The stored object, by its exact key.
    pub(crate) fn stored(&self, object: &ObjectRef) -> Option<&Stored> {
        self.objects.get(object)
    }

    /// The stored object `object` names: the exact key, else the one object whose kind matches
    /// the kind word (lower-case, singular or plural, with the group when one is given).
    fn resolve(&self, object: &ObjectRef) -> Option<(&ObjectRef, &Stored)> {
        if let Some(found) = self.objects.get_key_value(object) {
            return Some(found);
        }
        let word = object.kind.to_ascii_lowercase();
        let (bare, group) = match word.split_once('.') {
            Some((bare, group)) => (bare, Some(group)),
            None => (word.as_str(), None),
        };
        let mut candidates = self.objects.iter().filter(|(key, stored)| {
            let kind = key.kind.to_ascii_lowercase();
            key.name == object.name
                && key.namespace == object.namespace
                && [kind.clone(), format!("{kind}s"), format!("{kind}es")].iter().any(|form| form == bare)
                && group.is_none_or(|group| group == stored.group)
        });
        let found = candidates.next()?;
        // Two kinds of the same name in different groups: the user has to say which.
        candidates.next().is_none().then_some(found)
    }

    /// Objects that name `owner_uid` among their owners.
    pub(crate) fn children_of<'a>(&'a self, owner_uid: Option<&str>) -> impl Iterator<Item = (&'a ObjectRef, &'a Stored)> {
        owner_uid.and_then(|uid| self.children.get(uid)).into_iter().flatten().filter_map(|key| self.objects.get(key).map(|stored| (key, stored)))
    }

    /// The object and everything it owns, down the chain (Deployment → ReplicaSets → Pods), as
    /// stored: what an explanation of its verdict looks at.
    pub fn family(&self, object: &ObjectRef) -> Vec<ObjectRef> {
        let mut family = Vec::new();
        let mut pending = vec![object.clone()];
        while let Some(current) = pending.pop() {
            if family.contains(&current) {
                continue;
            }
            if let Some(stored) = self.objects.get(&current) {
                pending.extend(self.children_of(stored.uid.as_deref()).map(|(key, _)| key.clone()));
            }
            family.push(current);
        }
        family
    }

    /// Events about `object`, in no particular order.
    pub fn events_about<'a>(&'a self, object: &ObjectRef) -> impl Iterator<Item = &'a Event> {
        self.events.get(object).into_iter().flatten().filter_map(|key| match &self.objects.get(key)?.typed {
            Typed::Event(event) => Some(event.as_ref()),
            _ => None,
        })
    }
}

/// Drops `object` from the set under `slot`, and the set once it is empty.
fn remove_from_index<K: std::hash::Hash + Eq + ?Sized, Q: std::hash::Hash + Eq + std::borrow::Borrow<K>>(
    index: &mut HashMap<Q, BTreeSet<ObjectRef>>,
    slot: &K,
    object: &ObjectRef,
) {
    if let Some(set) = index.get_mut(slot) {
        set.remove(object);
        if set.is_empty() {
            index.remove(slot);
        }
    }
}

/// Reads the identity and indexes of one object and parses it into its [`Typed`] form.
fn parse_object(mut object: Value) -> Result<(ObjectRef, Stored), ObjectError> {
    let Some(map) = object.as_object_mut() else {
        return Err(ObjectError { object: "object".into(), field: ".".into(), problem: format!("expected an object, found {}", json_type(&object)) });
    };
    let kind = match map.get("kind") {
        Some(Value::String(kind)) if !kind.is_empty() => kind.clone(),
        Some(other) => return Err(field_error("object", "kind", format!("expected a non-empty string, found {}", json_type(other)))),
        None => return Err(field_error("object", "kind", "missing: every object needs a kind".into())),
    };
    let metadata = map.get("metadata");
    let name = match metadata.and_then(|m| m.get("name")) {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        Some(other) => return Err(field_error(&kind, "metadata.name", format!("expected a non-empty string, found {}", json_type(other)))),
        None => return Err(field_error(&kind, "metadata.name", "missing".into())),
    };
    let api_version = match map.remove("apiVersion") {
        Some(Value::String(api_version)) => api_version,
        Some(other) => return Err(field_error(&kind, "apiVersion", format!("expected a string, found {}", json_type(&other)))),
        None => String::new(),
    };
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    if let Some((_, kinds)) = BUILTIN_GROUPS.iter().find(|(builtin, _)| !api_version.is_empty() && *builtin == group)
        && !kinds.contains(&kind.as_str())
    {
        let problem = format!("unknown kind {kind:?} for apiVersion {api_version} (it serves {})", kinds.join(", "));
        return Err(field_error(&format!("{}/{name}", kind.to_ascii_lowercase()), "kind", problem));
    }
    let parser =
        BUILTIN_KINDS.iter().find(|(builtin, groups, _)| *builtin == kind && (api_version.is_empty() || groups.contains(&group))).map(|(_, _, parser)| *parser);
    let object_name = format!("{}/{name}", kind.to_ascii_lowercase());
    let typed = match parser {
        Some(parse) => {
            parse(object).map_err(|error| ObjectError { object: object_name.clone(), field: error.path().to_string(), problem: error.inner().to_string() })?
        }
        None => {
            let metadata = generic_part(&object, "metadata", &object_name)?.unwrap_or_default();
            let status = generic_part(&object, "status", &object_name)?;
            Typed::Generic(Box::new(Generic { metadata, status }))
        }
    };
    let meta = typed.metadata();
    let namespace = meta.namespace.clone();
    let uid = meta.uid.clone();
    let owners = meta.owner_references.iter().flatten().map(|owner| owner.uid.clone()).collect();
    let deleting = meta.deletion_timestamp.is_some();
    let key = ObjectRef::new(kind, namespace.clone(), name);
    let involved = match &typed {
        Typed::Event(event) => event
            .involved_object
            .kind
            .as_ref()
            .zip(event.involved_object.name.as_ref())
            .map(|(kind, name)| ObjectRef::new(kind.clone(), event.involved_object.namespace.clone().or(namespace.clone()), name.clone())),
        _ => None,
    };
    let stored = Stored { uid, owners, involved, deleting, typed, group: group.to_string() };
    Ok((key, stored))
}

/// Parses one top-level field of a generic object, naming the field path on error.
fn generic_part<T: DeserializeOwned>(object: &Value, field: &str, object_name: &str) -> Result<Option<T>, ObjectError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(part) => serde_path_to_error::deserialize(part).map(Some).map_err(|error| ObjectError {
            object: object_name.to_string(),
            field: match error.path().to_string().as_str() {
                "." => field.to_string(),
                path => format!("{field}.{path}"),
            },
            problem: error.inner().to_string(),
        }),
    }
}

fn field_error(object: &str, field: &str, problem: String) -> ObjectError {
    ObjectError { object: object.to_string(), field: field.to_string(), problem }
}
