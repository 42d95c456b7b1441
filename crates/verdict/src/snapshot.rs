//! An indexed, in-memory set of cluster objects, and the verdict for one workload among them.
//!
//! Objects are parsed once, into the slim types of [`crate::api`] (kinds rollwatch has a rule
//! for) or kept as JSON (any other kind): on [`Snapshot::upsert`] from a value tree, or by
//! [`Decoded::from_json`] straight from the text the API server sent (a tracker's watch events
//! and LISTs), then taken in by [`Snapshot::insert`]. Children are indexed by their owners' uids and Events by the object
//! they are about, so a verdict reads only the workload's own family.

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::{HashMap, HashSet};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::api::{
    ControllerRevision, CronJob, DaemonSet, Deployment, Digest, Event, Identity, Ingress, Job, ObjectMeta, PersistentVolumeClaim, Pod, ReplicaSet, Service,
    StatefulSet, Uid,
};
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
    /// The object's status as JSON (`None`: it has none, or its kind has no status).
    pub fn status_value(&self) -> Option<Value> {
        serde_json::to_value(StatusOf(self)).ok().filter(|status| !status.is_null())
    }

    /// A digest of the object's status, to tell whether it changed: the status written straight
    /// into a hasher, not built as JSON (none is written as `null`).
    pub fn status_digest(&self) -> u64 {
        let mut hasher = Digest::default();
        // Writing into a hasher cannot fail; a status that does not serialize digests as far as it went.
        let _ = serde_json::to_writer(&mut hasher, &StatusOf(self));
        hasher.finish()
    }

    /// Gives back the room the lists of a workload's status (k8s-openapi's, read as a `Vec`:
    /// room for four at the first entry) hold beyond their entries, as the object is kept.
    fn shrink_status(&mut self) {
        fn shrink<T>(list: Option<&mut Vec<T>>) {
            if let Some(list) = list {
                list.shrink_to_fit();
            }
        }
        match self {
            Typed::ReplicaSet(o) => shrink(o.status.as_mut().and_then(|s| s.conditions.as_mut())),
            Typed::StatefulSet(o) => shrink(o.status.as_mut().and_then(|s| s.conditions.as_mut())),
            Typed::DaemonSet(o) => shrink(o.status.as_mut().and_then(|s| s.conditions.as_mut())),
            Typed::Job(o) => shrink(o.status.as_mut().and_then(|s| s.conditions.as_mut())),
            Typed::CronJob(o) => shrink(o.status.as_mut().and_then(|s| s.active.as_mut())),
            _ => {}
        }
    }

    /// The object as JSON, as far as its typed form holds it.
    fn to_value(&self) -> Value {
        let value = match self {
            Typed::Deployment(o) => serde_json::to_value(o),
            Typed::ReplicaSet(o) => serde_json::to_value(o),
            Typed::StatefulSet(o) => serde_json::to_value(o),
            Typed::DaemonSet(o) => serde_json::to_value(o),
            Typed::ControllerRevision(o) => serde_json::to_value(o),
            Typed::Pod(o) => serde_json::to_value(o),
            Typed::Job(o) => serde_json::to_value(o),
            Typed::CronJob(o) => serde_json::to_value(o),
            Typed::Service(o) => serde_json::to_value(o),
            Typed::PersistentVolumeClaim(o) => serde_json::to_value(o),
            Typed::Ingress(o) => serde_json::to_value(o),
            Typed::Event(o) => serde_json::to_value(o),
            Typed::Generic(o) => return o.object.clone(),
        };
        value.unwrap_or_default()
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Typed::Deployment(o) => &o.metadata,
            Typed::ReplicaSet(o) => &o.metadata,
            Typed::StatefulSet(o) => &o.metadata,
            Typed::DaemonSet(o) => &o.metadata,
            Typed::ControllerRevision(o) => &o.metadata,
            Typed::Pod(o) => &o.metadata,
            Typed::Job(o) => &o.metadata,
            Typed::CronJob(o) => &o.metadata,
            Typed::Service(o) => &o.metadata,
            Typed::PersistentVolumeClaim(o) => &o.metadata,
            Typed::Ingress(o) => &o.metadata,
            Typed::Event(o) => &o.metadata,
            Typed::Generic(o) => &o.metadata,
        }
    }

    /// Takes out the name, namespace and resourceVersion read with the object: stored, its key
    /// holds them (see [`ObjectMeta::identity`]).
    fn take_identity(&mut self) -> Identity {
        self.metadata_mut().identity.take().map(|identity| *identity).unwrap_or_default()
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Typed::Deployment(o) => &mut o.metadata,
            Typed::ReplicaSet(o) => &mut o.metadata,
            Typed::StatefulSet(o) => &mut o.metadata,
            Typed::DaemonSet(o) => &mut o.metadata,
            Typed::ControllerRevision(o) => &mut o.metadata,
            Typed::Pod(o) => &mut o.metadata,
            Typed::Job(o) => &mut o.metadata,
            Typed::CronJob(o) => &mut o.metadata,
            Typed::Service(o) => &mut o.metadata,
            Typed::PersistentVolumeClaim(o) => &mut o.metadata,
            Typed::Ingress(o) => &mut o.metadata,
            Typed::Event(o) => &mut o.metadata,
            Typed::Generic(o) => &mut o.metadata,
        }
    }
}

/// An object's status as its typed form holds it, for the readers of [`Typed::status_value`]
/// and [`Typed::status_digest`]; `null` when it has none or its kind has no status.
struct StatusOf<'a>(&'a Typed);

impl Serialize for StatusOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Typed::Deployment(o) => o.status.serialize(serializer),
            Typed::ReplicaSet(o) => o.status.serialize(serializer),
            Typed::StatefulSet(o) => o.status.serialize(serializer),
            Typed::DaemonSet(o) => o.status.serialize(serializer),
            Typed::Pod(o) => o.status.serialize(serializer),
            Typed::Job(o) => o.status.serialize(serializer),
            Typed::CronJob(o) => o.status.serialize(serializer),
            Typed::Service(o) => o.status.serialize(serializer),
            Typed::PersistentVolumeClaim(o) => o.status.serialize(serializer),
            Typed::Ingress(o) => o.status.serialize(serializer),
            Typed::Generic(o) => o.object.get("status").serialize(serializer),
            Typed::ControllerRevision(_) | Typed::Event(_) => serializer.serialize_none(),
        }
    }
}

/// One stored object with what its indexes were built from. Its uid and owners are read from its
/// metadata when asked, not copied: a tracker keeps thousands.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub typed: Typed,
    /// For Events: the object the event is about.
    pub involved: Option<Box<ObjectRef>>,
}

impl Stored {
    pub fn uid(&self) -> Option<&Uid> {
        self.typed.metadata().uid.as_ref()
    }

    /// Uids of its owners (ownerReferences).
    pub fn owners(&self) -> impl Iterator<Item = &Uid> {
        self.typed.metadata().owner_references.iter().flatten().map(|owner| &owner.uid)
    }

    pub fn deleting(&self) -> bool {
        self.typed.metadata().deletion_timestamp.is_some()
    }

    /// For a CustomResourceDefinition with a status subresource: the group and kind it defines.
    fn defines(&self) -> Option<&(String, String)> {
        match &self.typed {
            Typed::Generic(generic) => generic.defines.as_ref(),
            _ => None,
        }
    }
}

/// One object read for a [`Snapshot`]: its key and the typed form its rules read. Reading is most
/// of what taking an object in costs, so a tracker reads each watched object once, straight from
/// the text the API server sent ([`Decoded::from_json`]).
#[derive(Debug, Clone)]
pub struct Decoded {
    key: ObjectRef,
    stored: Stored,
    /// A Node's allocatable.
    allocatable: Option<Resources>,
    /// For the watch to resume from; not stored.
    resource_version: Option<Box<str>>,
}

impl Decoded {
    /// Reads an object given as a value tree, its `kind` and `apiVersion` set.
    pub fn from_value(object: Value) -> Result<Self, ObjectError> {
        let allocatable = registry::of_object(&object).is_some_and(|row| *row == registry::NODE).then(|| capacity::allocatable(&object));
        let (key, stored, resource_version) = parse_object(object)?;
        let allocatable = match allocatable {
            Some(Ok(room)) => Some(room),
            Some(Err((field, problem))) => return Err(ObjectError { object: key.to_string(), field, problem }),
            None => None,
        };
        Ok(Decoded { key, stored, allocatable, resource_version })
    }

    /// Reads an object from its JSON text, as listed or watched from `api_version` and `kind`
    /// (LIST items come without them). A kind with typed rules is read in one pass, straight into
    /// its typed form ([`Decoded::read`]). Any other kind, and an object that does not read so (a
    /// field of the wrong type, a missing name), is read as [`Decoded::from_value`] reads it, so
    /// the outcome is the same and an error names the object and the field.
    pub fn from_json(json: &str, api_version: &str, kind: &str) -> Result<Self, ObjectError> {
        if let Some(typed_kind) = TypedKind::of(api_version, kind) {
            let mut deserializer = serde_json::Deserializer::from_str(json);
            if let Ok(decoded) = Decoded::read(&mut deserializer, typed_kind)
                && deserializer.end().is_ok()
            {
                return Ok(decoded);
            }
        }
        let mut object: Value = serde_json::from_str(json).map_err(|error| ObjectError {
            object: kind.to_ascii_lowercase(),
            field: ".".into(),
            problem: format!("not a JSON object: {error}"),
        })?;
        if let Some(map) = object.as_object_mut() {
            map.entry("apiVersion").or_insert_with(|| Value::String(api_version.to_string()));
            map.entry("kind").or_insert_with(|| Value::String(kind.to_string()));
        }
        Self::from_value(object)
    }

    /// Reads one object of `kind` from `deserializer`, straight into its typed form, without its
    /// managedFields: the one pass of [`Decoded::from_json`], for a reader that has no text to
    /// read again. Its error is the deserializer's; [`Decoded::from_value`] on the same object
    /// names the object and the field.
    pub fn read<'de, D: Deserializer<'de>>(deserializer: D, kind: TypedKind) -> Result<Self, D::Error> {
        let mut typed = kind.reader.read(deserializer)?;
        let identity = typed.take_identity();
        let Some(name) = identity.name.filter(|name| !name.is_empty()) else {
            return Err(serde::de::Error::missing_field("metadata.name"));
        };
        let key = ObjectRef::in_group(kind.row.group, kind.row.kind, identity.namespace.map(String::from), String::from(name));
        let stored = stored_as(&key, typed);
        Ok(Decoded { key, stored, allocatable: None, resource_version: identity.resource_version })
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        self.stored.typed.metadata()
    }

    /// Takes out the object's resourceVersion: a watch resumes from it, so its feed keeps it, but
    /// no rule reads it and a tracker keeps thousands of objects.
    pub fn take_resource_version(&mut self) -> Option<Box<str>> {
        self.resource_version.take()
    }

    /// Which object it is.
    pub fn key(&self) -> &ObjectRef {
        &self.key
    }

    /// Whether any rule reads this object. kubelet's Killing Events of containers stopped for good
    /// (one per pod a rollout deletes) are not: a tracker need not hold them (in the engine replay
    /// benchmark they took 30 of 187 MiB).
    pub fn read_by_rules(&self) -> bool {
        match &self.stored.typed {
            Typed::Event(event) => crate::pods::event_read_by_rules(event),
            _ => true,
        }
    }

    /// The Pod, if it is one.
    pub fn pod(&self) -> Option<&Pod> {
        match &self.stored.typed {
            Typed::Pod(pod) => Some(pod),
            _ => None,
        }
    }

    /// The Pod, for a tracker to move its timestamps onto its own clock before a verdict reads it.
    pub fn pod_mut(&mut self) -> Option<&mut Pod> {
        match &mut self.stored.typed {
            Typed::Pod(pod) => Some(pod),
            _ => None,
        }
    }

    /// Its `metadata.generation` (0 when unset) and whether its controller has observed that
    /// generation (`status.observedGeneration` at least as high), for the workload kinds.
    pub fn generation_observed(&self) -> (i64, bool) {
        let generation = self.metadata().generation.unwrap_or(0);
        let observed = match &self.stored.typed {
            Typed::Deployment(o) => o.status.as_ref().and_then(|s| s.observed_generation),
            Typed::StatefulSet(o) => o.status.as_ref().and_then(|s| s.observed_generation),
            Typed::DaemonSet(o) => o.status.as_ref().and_then(|s| s.observed_generation),
            Typed::ReplicaSet(o) => o.status.as_ref().and_then(|s| s.observed_generation),
            _ => None,
        };
        (generation, observed.is_some_and(|observed| observed >= generation))
    }

    /// A digest of the object's status, to tell whether it changed.
    pub fn status_digest(&self) -> u64 {
        self.stored.typed.status_digest()
    }

    /// The object as JSON, as far as its typed form holds it (only what rollwatch reads, see
    /// [`crate::api`]), with its `apiVersion` and `kind`: for readers of the whole workload, such
    /// as a rollout's duration estimate.
    pub fn to_value(&self) -> Value {
        let mut value = self.stored.typed.to_value();
        if let (Value::Object(object), false) = (&mut value, matches!(self.stored.typed, Typed::Generic(_))) {
            // The typed forms are of v1 (see TypedKind::of).
            let api_version = if self.key.group.is_empty() { "v1".to_string() } else { format!("{}/v1", self.key.group) };
            object.insert("apiVersion".into(), Value::String(api_version));
            object.insert("kind".into(), Value::String(self.key.kind.clone()));
        }
        // The name and namespace went into the key (see `ObjectMeta`).
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("name".into(), Value::String(self.key.name.clone()));
            if let Some(namespace) = &self.key.namespace {
                metadata.insert("namespace".into(), Value::String(namespace.clone()));
            }
        }
        value
    }
}

/// A kind whose objects [`Decoded::read`] reads straight into their typed form.
#[derive(Debug, Clone, Copy)]
pub struct TypedKind {
    row: &'static registry::Kind,
    reader: Reader,
}

/// The typed forms, one per kind with typed rules: what a registry row's objects are read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    ControllerRevision,
    Pod,
    Job,
    CronJob,
    Service,
    PersistentVolumeClaim,
    Ingress,
    Event,
}

impl Reader {
    /// Reads one object from `deserializer` into its typed form.
    fn read<'de, D: Deserializer<'de>>(self, deserializer: D) -> Result<Typed, D::Error> {
        let mut typed = match self {
            Reader::Deployment => Typed::Deployment(Box::new(Deployment::deserialize(deserializer)?)),
            Reader::ReplicaSet => Typed::ReplicaSet(Box::new(ReplicaSet::deserialize(deserializer)?)),
            Reader::StatefulSet => Typed::StatefulSet(Box::new(StatefulSet::deserialize(deserializer)?)),
            Reader::DaemonSet => Typed::DaemonSet(Box::new(DaemonSet::deserialize(deserializer)?)),
            Reader::ControllerRevision => Typed::ControllerRevision(Box::new(ControllerRevision::deserialize(deserializer)?)),
            Reader::Pod => Typed::Pod(Box::new(Pod::deserialize(deserializer)?)),
            Reader::Job => Typed::Job(Box::new(Job::deserialize(deserializer)?)),
            Reader::CronJob => Typed::CronJob(Box::new(CronJob::deserialize(deserializer)?)),
            Reader::Service => Typed::Service(Box::new(Service::deserialize(deserializer)?)),
            Reader::PersistentVolumeClaim => Typed::PersistentVolumeClaim(Box::new(PersistentVolumeClaim::deserialize(deserializer)?)),
            Reader::Ingress => Typed::Ingress(Box::new(Ingress::deserialize(deserializer)?)),
            Reader::Event => Typed::Event(Box::new(Event::deserialize(deserializer)?)),
        };
        typed.shrink_status();
        Ok(typed)
    }

    /// Reads one object given as a value tree; the error names the field at fault.
    fn read_value(self, value: Value) -> Result<Typed, serde_path_to_error::Error<serde_json::Error>> {
        let mut track = serde_path_to_error::Track::new();
        self.read(serde_path_to_error::Deserializer::new(value, &mut track)).map_err(|error| serde_path_to_error::Error::new(track.path(), error))
    }
}

impl TypedKind {
    /// The typed form of objects served as `api_version` and `kind`: `None` for kinds read as
    /// JSON, and for other versions of a kind (`extensions/v1beta1` Deployments, `batch/v1beta1`
    /// CronJobs), which the typed form would refuse and the value tree reads as the kind's own.
    pub fn of(api_version: &str, kind: &str) -> Option<TypedKind> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        // The typed forms are of v1, which a row's `version` names unless older servers serve
        // the kind at another (CronJob: batch/v1beta1 before 1.21).
        let row = registry::find(group, kind).filter(|row| row.group == group && version == "v1")?;
        row.reader.map(|reader| TypedKind { row, reader })
    }
}

/// Cluster objects of any kind, indexed for verdicts.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// The objects by key. The indexes share the keys: a set of a few keys would otherwise hold
    /// room for eleven whole ones.
    objects: HashMap<Arc<ObjectRef>, Stored>,
    by_uid: HashMap<Uid, Arc<ObjectRef>>,
    /// Owner uid → objects that name it in their ownerReferences.
    children: HashMap<Uid, Keys>,
    /// Object → Events about it.
    events: HashMap<ObjectRef, Keys>,
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
        self.insert(Decoded::from_value(object)?);
        Ok(())
    }

    /// Adds or replaces one object read beforehand. Returns its key as the snapshot holds it, for
    /// a caller's own indexes to share rather than copy.
    pub fn insert(&mut self, decoded: Decoded) -> Arc<ObjectRef> {
        let Decoded { key, stored, allocatable, resource_version: _ } = decoded;
        // A new version of an object known with the same identity and owners (most watch events)
        // leaves the indexes as they are.
        if let Some((shared, known)) = self.objects.get_key_value(&key)
            && allocatable.is_none()
            && known.uid() == stored.uid()
            && known.owners().eq(stored.owners())
            && known.involved == stored.involved
            && known.defines().is_none()
            && stored.defines().is_none()
        {
            let shared = Arc::clone(shared);
            *self.objects.get_mut(&key).expect("just found") = stored;
            return shared;
        }
        self.remove(&key);
        let key = Arc::new(key);
        if let Some(room) = allocatable {
            self.nodes.insert(key.name.clone(), room);
        }
        if let Some(uid) = stored.uid() {
            self.by_uid.insert(uid.clone(), Arc::clone(&key));
        }
        for owner in stored.owners() {
            self.children.entry(owner.clone()).or_default().insert(Arc::clone(&key));
        }
        if let Some(involved) = &stored.involved {
            self.events.entry(ObjectRef::clone(involved)).or_default().insert(Arc::clone(&key));
        }
        if let Some(defines) = stored.defines() {
            self.status_subresources.insert(defines.clone());
        }
        self.objects.insert(Arc::clone(&key), stored);
        key
    }

    /// Removes one object; returns whether it was there.
    pub fn remove(&mut self, object: &ObjectRef) -> bool {
        let Some(stored) = self.objects.remove(object) else { return false };
        if object.is(&registry::NODE) {
            self.nodes.remove(&object.name);
        }
        if let Some(uid) = stored.uid() {
            self.by_uid.remove(uid);
        }
        for owner in stored.owners() {
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
        match self.by_uid.get(&Uid::of(uid)).cloned() {
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
            .filter(|(_, stored)| !stored.owners().any(|owner| self.by_uid.contains_key(owner)))
            .map(|(key, _)| ObjectRef::clone(key))
            .collect();
        found.sort();
        found
    }

    /// The workloads whose verdict may change when `object` changes: the object itself and its
    /// owners up the chain (Pod → ReplicaSet → Deployment); for an Event, those of the object it
    /// is about. Call it before [`Snapshot::remove`] for a deletion.
    pub fn workloads_affected_by(&self, object: &ObjectRef) -> Vec<ObjectRef> {
        let mut affected = Vec::new();
        let start = match self.objects.get(object).and_then(|stored| stored.involved.as_deref()) {
            Some(involved) => involved.clone(),
            None => object.clone(),
        };
        let mut pending = vec![start];
        while let Some(current) = pending.pop() {
            if affected.contains(&current) {
                continue;
            }
            if let Some(stored) = self.objects.get(&current) {
                pending.extend(stored.owners().filter_map(|uid| self.by_uid.get(uid)).map(|owner| ObjectRef::clone(owner)));
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
        if stored.deleting() {
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
        if let Some((key, stored)) = self.objects.get_key_value(object) {
            return Some((key, stored));
        }
        let bare = object.kind.to_ascii_lowercase();
        let mut candidates = self.objects.iter().filter(|(key, _)| {
            let kind = key.kind.to_ascii_lowercase();
            key.name == object.name
                && key.namespace == object.namespace
                && [kind.clone(), format!("{kind}s"), format!("{kind}es")].contains(&bare)
                && (object.group.is_empty() || object.group == key.group)
        });
        let (key, stored) = candidates.next()?;
        // Two kinds of the same name in different groups: the user has to say which.
        candidates.next().is_none().then_some((key, stored))
    }

    /// Whether the CRD of `group`/`kind` is stored and declares a status subresource: then an
    /// object of it without status has not been seen by its controller yet.
    pub(crate) fn declares_status_subresource(&self, group: &str, kind: &str) -> bool {
        self.status_subresources.contains(&(group.to_string(), kind.to_string()))
    }

    /// Objects that name `owner_uid` among their owners.
    pub(crate) fn children_of<'a>(&'a self, owner_uid: Option<&Uid>) -> impl Iterator<Item = (&'a ObjectRef, &'a Stored)> {
        owner_uid.and_then(|uid| self.children.get(uid)).into_iter().flatten().filter_map(|key| self.objects.get(key).map(|stored| (key.as_ref(), stored)))
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
                pending.extend(self.children_of(stored.uid()).map(|(key, _)| key.clone()));
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

/// The keys under one entry of an index (an owner's children, the Events about an object),
/// sorted, in one list: an entry holds a few, and a `BTreeSet`'s node has room for eleven.
#[derive(Debug, Clone, Default)]
struct Keys(Vec<Arc<ObjectRef>>);

impl Keys {
    fn insert(&mut self, key: Arc<ObjectRef>) {
        if let Err(at) = self.0.binary_search(&key) {
            self.0.insert(at, key);
        }
    }

    fn remove(&mut self, key: &ObjectRef) {
        if let Ok(at) = self.0.binary_search_by(|known| known.as_ref().cmp(key)) {
            self.0.remove(at);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Keys {
    type Item = &'a Arc<ObjectRef>;
    type IntoIter = std::slice::Iter<'a, Arc<ObjectRef>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Drops `object` from the set under `slot`, and the set once it is empty.
fn remove_from_index<K: std::hash::Hash + Eq + ?Sized, Q: std::hash::Hash + Eq + std::borrow::Borrow<K>>(
    index: &mut HashMap<Q, Keys>,
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
fn parse_object(mut object: Value) -> Result<(ObjectRef, Stored, Option<Box<str>>), ObjectError> {
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
    let mut typed = match row.and_then(|row| row.reader) {
        Some(reader) => reader.read_value(object).map_err(|error| ObjectError {
            object: object_name.clone(),
            field: error.path().to_string(),
            problem: error.inner().to_string(),
        })?,
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
    let identity = typed.take_identity();
    let key = ObjectRef::in_group(group, kind, identity.namespace.map(String::from), name);
    let stored = stored_as(&key, typed);
    Ok((key, stored, identity.resource_version))
}

/// The stored form and indexes of an object read into its typed form, its identity taken out
/// into `key`.
fn stored_as(key: &ObjectRef, typed: Typed) -> Stored {
    let namespace = &key.namespace;
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
    Stored { typed, involved: involved.map(Box::new) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;

    /// `kubectl get deploy,rs,pods,events -o json` of one namespace (see the throughput benchmark).
    const RECORDED: &str = include_str!("../benches/data/recorded.json");

    /// The object as a LIST sends it: without its kind and apiVersion.
    fn listed(object: &Value) -> (String, String, String) {
        let mut item = object.clone();
        let map = item.as_object_mut().unwrap();
        let kind = map.remove("kind").unwrap().as_str().unwrap().to_string();
        let api_version = map.remove("apiVersion").unwrap().as_str().unwrap().to_string();
        (item.to_string(), api_version, kind)
    }

    #[test]
    fn an_object_read_straight_from_its_json_is_stored_as_the_value_tree_stores_it() {
        let recorded: Value = serde_json::from_str(RECORDED).unwrap();
        let items = recorded["items"].as_array().unwrap();
        for kind in ["Deployment", "ReplicaSet", "Pod", "Event"] {
            assert!(items.iter().any(|item| item["kind"] == kind), "the recording has a {kind}");
        }
        for item in items {
            let (text, api_version, kind) = listed(item);
            assert!(TypedKind::of(&api_version, &kind).is_some(), "{kind} is read typed");
            let one_pass = Decoded::from_json(&text, &api_version, &kind).unwrap();
            let value_tree = Decoded::from_value(item.clone()).unwrap();
            assert_eq!(one_pass.key, value_tree.key);
            assert_eq!(format!("{:?}", one_pass.stored), format!("{:?}", value_tree.stored), "{}", one_pass.key);
        }
    }

    #[test]
    fn an_object_is_read_without_the_parts_no_rule_reads_both_ways() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "web-1", "namespace": "shop", "labels": {"app": "web", "pod-template-hash": "5d4f8"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}", "rollwatch.dev/skip": "true", "team": "shop",
                                "deployment.kubernetes.io/revision": "2"},
                "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}],
            },
            "spec": {
                "volumes": [{"name": "token", "secret": {"secretName": "t"}}],
                "tolerations": [{"key": "k", "operator": "Exists"}],
                "containers": [{"name": "app", "image": "web:1", "env": [{"name": "A", "value": "1"}], "volumeMounts": [{"name": "token", "mountPath": "/t"}],
                                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}}],
            },
            "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [{"name": "app", "image": "web:1", "imageID": "sha", "ready": true, "restartCount": 2, "lastState": {}}]},
        });
        let kept = json!({
            "metadata": {"name": "web-1", "namespace": "shop", "labels": {"pod-template-hash": "5d4f8"}, "annotations": {"deployment.kubernetes.io/revision": "2", "rollwatch.dev/skip": "true"}},
            "spec": {"containers": [{"name": "app", "image": "web:1", "readinessProbe": {"periodSeconds": 5}}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "web:1", "imageID": "sha", "ready": true, "restartCount": 2}]},
        });
        let kept = json!({"apiVersion": "v1", "kind": "Pod", "metadata": kept["metadata"], "spec": kept["spec"], "status": kept["status"]});
        assert_eq!(Decoded::from_json(&pod.to_string(), "v1", "Pod").unwrap().to_value(), kept);
        assert_eq!(Decoded::from_value(pod).unwrap().to_value(), kept);
    }

    #[test]
    fn every_kind_with_typed_rules_is_read_typed_at_the_version_it_is_served() {
        for row in registry::KINDS.iter().filter(|row| row.reader.is_some()) {
            let versions = match row.version {
                Some(version) => vec![version],
                None => vec!["v1"],
            };
            for version in versions {
                let api_version = if row.group.is_empty() { version.to_string() } else { format!("{}/{version}", row.group) };
                assert!(TypedKind::of(&api_version, row.kind).is_some(), "{api_version} {}", row.kind);
            }
        }
        // Older versions are read through the value tree, as the kind's own.
        assert!(TypedKind::of("extensions/v1beta1", "Deployment").is_none());
        assert!(TypedKind::of("batch/v1beta1", "CronJob").is_none());
        assert!(TypedKind::of("example.com/v1", "Widget").is_none());
        let legacy = json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}});
        let decoded = Decoded::from_json(&legacy.to_string(), "extensions/v1beta1", "Deployment").unwrap();
        assert_eq!(decoded.key().to_string(), ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web").to_string());
        // A custom resource keeps its whole object, for its CEL rules.
        let widget = json!({"metadata": {"name": "w", "namespace": "shop"}, "spec": {"size": 3}});
        let decoded = Decoded::from_json(&widget.to_string(), "example.com/v1", "Widget").unwrap();
        assert_eq!(decoded.to_value()["spec"]["size"], 3);
        assert_eq!(decoded.key().group, "example.com");
    }

    #[test]
    fn bad_input_read_from_json_is_an_error_naming_the_object_and_the_field() {
        let wrong_type = json!({"metadata": {"name": "web-1", "namespace": "shop"}, "status": {"containerStatuses": "running"}});
        let error = Decoded::from_json(&wrong_type.to_string(), "v1", "Pod").unwrap_err();
        assert_eq!((error.object.as_str(), error.field.as_str()), ("pod/web-1", "status.containerStatuses"), "{error}");

        let nameless = json!({"metadata": {"namespace": "shop"}, "spec": {"replicas": 1}});
        let error = Decoded::from_json(&nameless.to_string(), "apps/v1", "Deployment").unwrap_err();
        assert_eq!((error.object.as_str(), error.field.as_str()), ("Deployment", "metadata.name"), "{error}");

        for text in ["", "{\"metadata\": {\"name\": \"web\"", "[1, 2]", "{\"metadata\": {\"name\": \"web\"}} trailing"] {
            let error = Decoded::from_json(text, "apps/v1", "Deployment").unwrap_err();
            assert!(!error.problem.is_empty(), "{text:?}: {error}");
        }
    }

    #[test]
    fn an_object_is_kept_without_room_it_does_not_use() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "9d81c4f7-2337-439a-8170-991b16098096",
                         "annotations": {"deployment.kubernetes.io/revision": "2", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "app", "image": "web:2", "resources": {"requests": {"cpu": "100m", "memory": "64Mi", "example.com/gpu": "1"}}}]}}},
            "status": {"conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]},
        });
        let decoded = Decoded::from_json(&deployment.to_string(), "apps/v1", "Deployment").unwrap();
        let Typed::Deployment(deployment) = decoded.stored.typed else { panic!("read as a Deployment") };
        assert_eq!(deployment.status.unwrap().conditions.map(|c| c.len()), Some(2));
        let replica_set = json!({"metadata": {"name": "web-1", "namespace": "shop"}, "status": {"replicas": 0, "conditions": [
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "pods \"web-1-x\" is forbidden: exceeded quota"}]}});
        let decoded = Decoded::from_json(&replica_set.to_string(), "apps/v1", "ReplicaSet").unwrap();
        let Typed::ReplicaSet(replica_set) = decoded.stored.typed else { panic!("read as a ReplicaSet") };
        let conditions = replica_set.status.unwrap().conditions.unwrap();
        assert_eq!((conditions.len(), conditions.capacity()), (1, 1), "a status's list has no room beyond its entries");
        let annotations = deployment.metadata.annotations.unwrap().into_tuple_vec();
        assert_eq!((annotations.len(), annotations.capacity()), (1, 1), "nor a map");
        // Taken out, not cloned: a clone is cut to its length whatever the original holds.
        let spec = deployment.spec.unwrap().template.spec.unwrap();
        let requests = spec.containers.into_vec().remove(0).resources.unwrap().requests.unwrap();
        assert!(requests.get("cpu").is_some() && requests.get("example.com/gpu").is_some());
        let requests = requests.into_tuple_vec();
        assert_eq!((requests.len(), requests.capacity()), (3, 3));
        assert!(matches!(requests.iter().find(|(key, _)| key == "cpu").unwrap().0, Cow::Borrowed(_)), "a key the rules read is not allocated");
        assert!(matches!(requests.iter().find(|(key, _)| key == "example.com/gpu").unwrap().0, Cow::Owned(_)));
    }

    #[test]
    fn a_uid_is_indexed_as_written() {
        let uuid = "9d81c4f7-2337-439a-8170-991b16098096";
        // The family is found through UUIDs as through other uids.
        let mut snapshot = Snapshot::new();
        let owner = |uid: &str| json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": uid, "controller": true}]);
        snapshot.upsert(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": uuid}})).unwrap();
        let replica_set = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "0b0e4c3a-1111-4222-8333-444455556666", "ownerReferences": owner(uuid)}});
        snapshot.upsert(replica_set).unwrap();
        let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
        let names = |snapshot: &Snapshot| snapshot.family(&web).iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(names(&snapshot), ["deployment/web", "replicaset/web-1"]);
        assert_eq!(snapshot.workloads(), std::slice::from_ref(&web), "the ReplicaSet's owner is known by its uid");
        assert!(snapshot.remove_uid("0b0e4c3a-1111-4222-8333-444455556666"));
        assert_eq!(names(&snapshot), ["deployment/web"]);
    }

    #[test]
    fn an_index_entry_holds_its_keys_once_and_in_order() {
        let key = |name: &str| Arc::new(ObjectRef::new("Pod", Some("shop".into()), name));
        let mut keys = Keys::default();
        for name in ["web-2", "web-1", "web-3", "web-1"] {
            keys.insert(key(name));
        }
        let names = |keys: &Keys| keys.into_iter().map(|key| key.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&keys), ["web-1", "web-2", "web-3"]);
        keys.remove(&key("web-2"));
        keys.remove(&key("web-9"));
        assert_eq!(names(&keys), ["web-1", "web-3"]);
        keys.remove(&key("web-1"));
        keys.remove(&key("web-3"));
        assert!(keys.is_empty());
    }
}
