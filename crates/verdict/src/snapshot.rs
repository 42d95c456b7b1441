//! An indexed, in-memory set of cluster objects, and the verdict for one workload among them.
//!
//! Objects are parsed once, on [`Snapshot::upsert`], into k8s-openapi types (kinds rollwatch has a
//! rule for) or kept as JSON (any other kind). Children are indexed by their owners' uids and
//! Events by the object they are about, so a verdict reads only the workload's own family.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::capacity::{self, Autoscaler, Resources};
use crate::clock::Clock;
use crate::kinds::{self, GenericStatus};
use crate::no_progress;
use crate::parse::json_type;
use crate::registry;
use crate::rules::{self, Rule, RuleError, SKIP_ANNOTATION};
use crate::{ObjectRef, Policy, Reason, ReasonCode, State, Verdict};

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

/// An object of a kind without typed rules: what the generic rules read, and the whole object
/// for the CEL rules of custom resources.
#[derive(Debug, Clone)]
pub(crate) struct Generic {
    pub metadata: ObjectMeta,
    pub status: Option<GenericStatus>,
    /// The object as given (without apiVersion); null for a CustomResourceDefinition, whose
    /// schema can be large and is read only for [`Generic::defines`].
    pub object: Value,
    /// The rule of its `rollwatch.dev/ready-when` / `failed-when` annotations, compiled once.
    pub annotation_rule: Option<Result<Arc<Rule>, RuleError>>,
    /// For a CustomResourceDefinition: the group and kind it defines, if some version of it
    /// declares a status subresource.
    pub defines: Option<(String, String)>,
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
}

impl Stored {
    /// For a CustomResourceDefinition with a status subresource: the group and kind it defines.
    fn defines(&self) -> Option<&(String, String)> {
        match &self.typed {
            Typed::Generic(generic) => generic.defines.as_ref(),
            _ => None,
        }
    }
}

/// A Pod without the parts no rule reads that every Pod carries: volumes (the service account's
/// token at least), tolerations, affinity, and the containers' environment and mounts. Typed, a
/// volume alone is 3 KB; with thousands of Pods tracked these parts were a third of their memory.
pub(crate) fn without_unread_pod_fields(mut pod: Value) -> Value {
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

pub(crate) fn typed<T: DeserializeOwned>(value: Value) -> Result<Box<T>, serde_path_to_error::Error<serde_json::Error>> {
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
    /// (group, kind) of custom resources whose CRD (stored here) declares a status subresource.
    status_subresources: HashSet<(String, String)>,
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
        let allocatable = registry::of_object(&object).is_some_and(|row| *row == registry::NODE).then(|| capacity::allocatable(&object));
        let (key, stored) = parse_object(object)?;
        let allocatable = match allocatable {
            Some(Ok(room)) => Some(room),
            Some(Err((field, problem))) => return Err(ObjectError { object: key.to_string(), field, problem }),
            None => None,
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
        if let Some(defines) = stored.defines() {
            self.status_subresources.insert(defines.clone());
        }
        self.objects.insert(key, stored);
        Ok(())
    }

    /// Removes one object; returns whether it was there.
    pub fn remove(&mut self, object: &ObjectRef) -> bool {
        let Some(stored) = self.objects.remove(object) else { return false };
        if object.is(&registry::NODE) {
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
        if let Some(defines) = stored.defines() {
            self.status_subresources.remove(defines);
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
        if stored.typed.metadata().annotations.as_ref().and_then(|a| a.get(SKIP_ANNOTATION)).is_some_and(|skip| skip == "true") {
            let reason = Reason::new(ReasonCode::Skipped, object.clone(), format!("annotation {SKIP_ANNOTATION}: \"true\""));
            return Verdict::new(State::Ready, format!("{object} is skipped ({SKIP_ANNOTATION}): not waited for")).with_reasons(vec![reason]);
        }
        let clock = Clock::new(now);
        let verdict = kinds::view(&kinds::Context { snapshot: self, object, stored, policy, clock: &clock });
        let mut verdict = match policy.no_progress_timeout {
            Some(timeout) => no_progress::judge(self, object, verdict, timeout, last_change(self, object), &clock),
            None => verdict,
        };
        verdict.changes_at = clock.next_change();
        verdict
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
    /// the kind word (lower-case, singular or plural) in the reference's group, or in any group
    /// when it names none.
    fn resolve(&self, object: &ObjectRef) -> Option<(&ObjectRef, &Stored)> {
        if let Some(found) = self.objects.get_key_value(object) {
            return Some(found);
        }
        let bare = object.kind.to_ascii_lowercase();
        let mut candidates = self.objects.iter().filter(|(key, _)| {
            let kind = key.kind.to_ascii_lowercase();
            key.name == object.name
                && key.namespace == object.namespace
                && [kind.clone(), format!("{kind}s"), format!("{kind}es")].contains(&bare)
                && (object.group.is_empty() || object.group == key.group)
        });
        let found = candidates.next()?;
        // Two kinds of the same name in different groups: the user has to say which.
        candidates.next().is_none().then_some(found)
    }

    /// Whether the CRD of `group`/`kind` is stored and declares a status subresource: then an
    /// object of it without status has not been seen by its controller yet.
    pub(crate) fn declares_status_subresource(&self, group: &str, kind: &str) -> bool {
        self.status_subresources.contains(&(group.to_string(), kind.to_string()))
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
    let served_group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let row = if api_version.is_empty() { registry::by_kind(&kind) } else { registry::find(served_group, &kind) };
    if row.is_none() && registry::is_builtin_group(served_group) && !api_version.is_empty() {
        let kinds = registry::kinds_of_group(served_group).join(", ");
        let problem = format!("unknown kind {kind:?} for apiVersion {api_version} (it serves {kinds})");
        return Err(field_error(&format!("{}/{name}", kind.to_ascii_lowercase()), "kind", problem));
    }
    // Legacy groups (extensions) are read as the kind's own; without an apiVersion, the kind is
    // taken for Kubernetes' own.
    let group = row.map_or(served_group, |row| row.group);
    let object_name = format!("{}/{name}", kind.to_ascii_lowercase());
    let typed = match row.and_then(|row| row.parse) {
        Some(parse) => {
            parse(object).map_err(|error| ObjectError { object: object_name.clone(), field: error.path().to_string(), problem: error.inner().to_string() })?
        }
        None => {
            let metadata = generic_part(&object, "metadata", &object_name)?.unwrap_or_default();
            let status = generic_part(&object, "status", &object_name)?;
            let is_crd = kind == "CustomResourceDefinition" && group == "apiextensions.k8s.io";
            let defines = if is_crd { defines_with_status(&object) } else { None };
            let annotation_rule = rules::annotation_rule(&object).transpose().map(|rule| rule.map(Arc::new));
            let object = if is_crd { Value::Null } else { object };
            Typed::Generic(Box::new(Generic { metadata, status, object, annotation_rule, defines }))
        }
    };
    let meta = typed.metadata();
    let namespace = meta.namespace.clone();
    let uid = meta.uid.clone();
    let owners = meta.owner_references.iter().flatten().map(|owner| owner.uid.clone()).collect();
    let deleting = meta.deletion_timestamp.is_some();
    let key = ObjectRef::in_group(group, kind, namespace.clone(), name);
    let involved = match &typed {
        Typed::Event(event) => {
            let about = &event.involved_object;
            about.kind.as_ref().zip(about.name.as_ref()).map(|(kind, name)| {
                let namespace = about.namespace.clone().or(namespace.clone());
                match about.api_version.as_deref() {
                    Some(api_version) => {
                        ObjectRef::in_group(api_version.rsplit_once('/').map_or("", |(group, _)| group), kind.clone(), namespace, name.clone())
                    }
                    None => ObjectRef::new(kind.clone(), namespace, name.clone()),
                }
            })
        }
        _ => None,
    };
    let stored = Stored { uid, owners, involved, deleting, typed };
    Ok((key, stored))
}

/// The group and kind a CustomResourceDefinition defines, if it declares a status subresource
/// (per version in apiextensions.k8s.io/v1, for the whole resource in v1beta1).
fn defines_with_status(crd: &Value) -> Option<(String, String)> {
    let spec = crd.get("spec")?;
    let has_status = |subresources: Option<&Value>| subresources.and_then(|s| s.get("status")).is_some_and(|status| !status.is_null());
    let declared = has_status(spec.get("subresources"))
        || spec.get("versions").and_then(Value::as_array).into_iter().flatten().any(|version| has_status(version.get("subresources")));
    let group = spec.get("group")?.as_str()?;
    let kind = spec.pointer("/names/kind")?.as_str()?;
    declared.then(|| (group.to_string(), kind.to_string()))
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
