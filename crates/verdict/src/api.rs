//! The objects of the kinds with typed rules, cut down to the fields rollwatch reads.
//!
//! k8s-openapi's types hold every field of the API: a Pod read into them is some 8 KB however
//! little it says (a `Container` alone is 2 KB of mostly empty fields), and reading them builds
//! what no rule looks at, managedFields first. A tracker keeps thousands of objects, so it reads
//! them into these instead: the same names and shapes as k8s-openapi's (the rules read them the
//! same way), holding only what the rules, the duration estimate and the timeline read. Fields
//! not named here are skipped while reading, without being built, and so are the labels and
//! annotations no rule reads. A pod template is kept as its spec and the digest of all of it (a
//! ReplicaSet's as its digest alone); a Pod's conditions, owner references and its containers'
//! probes are cut to what the rules read. A Deployment's status is read into a form of its own
//! (every Deployment holds two conditions); other leaf types that are small and read whole (the
//! other workloads' conditions, update strategies) are k8s-openapi's own.
//!
//! Every object costs its own memory, so the forms are laid out for size: texts read and never
//! changed are `Box<str>` (a `String` also holds its capacity); the few words a field is almost
//! always written with (a phase, a condition's type and status, a Deployment's condition reasons,
//! a map's key the rules read) are held without an allocation ([`Word`]; a map's keys as
//! `Cow<'static, str>`); a uid as its 16 bytes ([`Uid`]); what most objects lack (a waiting or
//! terminated state, a probe, a deletion time) is boxed, and an empty container state
//! (`lastState: {}`) is none. A stored object's name and namespace live in its key, not here.
//! Lists are boxed slices and maps small sorted lists, both cut to their length when read (a
//! `Vec` read holds room for four entries or more; a Pod's one container status would otherwise
//! take 2 KB).
//!
//! Adding a rule that reads a field not here: add the field here; the compiler names the place.
//! A rule that reads an annotation or a label adds it to `is_read_annotation` or `is_read_label`
//! below.

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use litemap::LiteMap;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::history::{POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, REVISION_HASH_LABEL};
use crate::kinds::autoscaler::V1_CONDITIONS_ANNOTATION;

/// A map of a few entries (labels, annotations, resources), sorted in one allocation: a
/// BTreeMap's node is half a KB however few its entries. Its keys are mostly the few the rules
/// read ([`key_read`]), held without an allocation of their own.
pub type Map<V> = LiteMap<Cow<'static, str>, V>;

/// The keys of labels, annotations and resources the rules read by name.
const KEYS: &[&str] = &[POD_TEMPLATE_HASH_LABEL, REVISION_HASH_LABEL, REVISION_ANNOTATION, V1_CONDITIONS_ANNOTATION, "cpu", "memory", "ephemeral-storage"];

/// A map's key as one of [`KEYS`] when it is one, else as written.
fn key_read(key: String) -> Cow<'static, str> {
    match KEYS.iter().find(|known| **known == key) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(key),
    }
}

/// An object of a kind with a spec and a status.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Object<Spec, Status> {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Spec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// What rollwatch reads of an object's metadata.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", from = "ObjectMetaRead")]
pub struct ObjectMeta {
    /// Read, then taken out as the object is stored: its key holds its name and namespace, its
    /// watch the resourceVersion it resumes from. Boxed, they cost a stored object 8 bytes
    /// instead of 48 (a ReplicaSet then fits mimalloc's 256-byte class, a Deployment the 448).
    #[serde(skip)]
    pub identity: Option<Box<Identity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<Uid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// Boxed: few objects have one, and every object would hold its 24 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Box<Time>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Map<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Box<[OwnerReference]>>,
}

/// An object's name, namespace and resourceVersion, as read (see [`ObjectMeta::identity`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub name: Option<Box<str>>,
    pub namespace: Option<Box<str>>,
    pub resource_version: Option<Box<str>>,
}

/// An object's metadata as the API server writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectMetaRead {
    #[serde(default)]
    name: Option<Box<str>>,
    #[serde(default)]
    namespace: Option<Box<str>>,
    #[serde(default)]
    uid: Option<Uid>,
    #[serde(default)]
    generation: Option<i64>,
    #[serde(default)]
    resource_version: Option<Box<str>>,
    #[serde(default)]
    creation_timestamp: Option<Time>,
    #[serde(default)]
    deletion_timestamp: Option<Box<Time>>,
    #[serde(default, deserialize_with = "labels_read")]
    labels: Option<Map<String>>,
    #[serde(default, deserialize_with = "annotations_read")]
    annotations: Option<Map<String>>,
    #[serde(default)]
    owner_references: Option<Box<[OwnerReference]>>,
}

impl From<ObjectMetaRead> for ObjectMeta {
    fn from(read: ObjectMetaRead) -> Self {
        let ObjectMetaRead {
            name,
            namespace,
            uid,
            generation,
            resource_version,
            creation_timestamp,
            deletion_timestamp,
            labels,
            annotations,
            owner_references,
        } = read;
        let identity = (name.is_some() || namespace.is_some() || resource_version.is_some()).then(|| Box::new(Identity { name, namespace, resource_version }));
        ObjectMeta { identity, uid, generation, creation_timestamp, deletion_timestamp, labels, annotations, owner_references }
    }
}

/// An owner reference as the rules read it: which object (by uid) owns this one and whether as
/// its controller. The owner's kind is one of a few words, held without an allocation; its
/// apiVersion and blockOwnerDeletion are read by no rule.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct OwnerReference {
    pub kind: Word,
    pub name: Box<str>,
    pub uid: Uid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

/// Whether a rule reads the annotation: rollwatch's own, the Deployment controller's revision,
/// the conditions autoscaling/v1 keeps. The others are skipped while reading: kubectl's
/// last-applied-configuration alone is often the largest part of a workload.
fn is_read_annotation(annotation: &str) -> bool {
    annotation.starts_with("rollwatch.dev/") || [REVISION_ANNOTATION, V1_CONDITIONS_ANNOTATION].contains(&annotation)
}

/// Whether a rule reads the label: the revision hashes the controllers put on the pods they
/// make (which revision a pod is of). Owners are found by ownerReferences, not by selectors.
fn is_read_label(label: &str) -> bool {
    [POD_TEMPLATE_HASH_LABEL, REVISION_HASH_LABEL].contains(&label)
}

/// The annotations [`is_read_annotation`] keeps.
fn annotations_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Map<String>>, D::Error> {
    deserializer.deserialize_option(ReadEntries { kept: is_read_annotation, what: "a map of annotations" })
}

/// The labels [`is_read_label`] keeps.
fn labels_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Map<String>>, D::Error> {
    deserializer.deserialize_option(ReadEntries { kept: is_read_label, what: "a map of labels" })
}

/// Reads a map of strings, keeping the entries whose key `kept` names.
struct ReadEntries {
    kept: fn(&str) -> bool,
    what: &'static str,
}

impl<'de> Visitor<'de> for ReadEntries {
    type Value = Option<Map<String>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if (self.kept)(&key) {
                entries.insert(key_read(key), map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        // None rather than empty: an empty LiteMap would be written as a list.
        Ok((!entries.is_empty()).then(|| shrunk(entries)))
    }
}

/// A map without room for entries it will never get: a `LiteMap` grows as a `Vec` does (room for
/// four at its first entry), and an object's maps are read once and kept as read.
fn shrunk<V>(map: Map<V>) -> Map<V> {
    let mut entries = map.into_tuple_vec();
    entries.shrink_to_fit();
    // Still sorted: taken out of a LiteMap as they were.
    Map::from_sorted_store_unchecked(entries)
}

/// A map of quantities (resources, overhead), kept [`shrunk`].
fn quantities_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Map<Quantity>>, D::Error> {
    let read = Option::<LiteMap<String, Quantity>>::deserialize(deserializer)?;
    Ok(read.map(|read| shrunk(read.into_iter().map(|(key, quantity)| (key_read(key), quantity)).collect())))
}

fn boxed_quantities_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<Map<Quantity>>>, D::Error> {
    Ok(quantities_read(deserializer)?.map(Box::new))
}

// ---- Pods ----

pub type Pod = Object<PodSpec, PodStatus>;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PodTemplateSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    /// The whole template as sent, its `pod-template-hash` label aside, digested: whether a
    /// ReplicaSet's template is its Deployment's is decided on all of it (a new env var, the
    /// `restartedAt` annotation of a restart), not on the few fields kept above. Its metadata is
    /// kept only there: no rule reads it otherwise.
    #[serde(skip)]
    pub digest: u64,
}

impl<'de> Deserialize<'de> for PodTemplateSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Kept {
            #[serde(default)]
            spec: Option<PodSpec>,
        }
        let whole = serde_json::Value::deserialize(deserializer)?;
        let kept: Kept = serde_path_to_error::deserialize(&whole).map_err(|error| serde::de::Error::custom(format!("{}: {}", error.path(), error.inner())))?;
        let TemplateDigest(digest) = TemplateDigest::of(whole).map_err(serde::de::Error::custom)?;
        Ok(PodTemplateSpec { spec: kept.spec, digest })
    }
}

/// A pod template read for its digest alone (see [`PodTemplateSpec::digest`]): what a
/// ReplicaSet's template is read for, whether it is its Deployment's. Not written back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TemplateDigest(pub u64);

impl TemplateDigest {
    fn of(mut whole: serde_json::Value) -> Result<Self, serde_json::Error> {
        if let Some(metadata) = whole.get_mut("metadata").and_then(serde_json::Value::as_object_mut)
            && let Some(labels) = metadata.get_mut("labels").and_then(serde_json::Value::as_object_mut)
        {
            labels.remove(POD_TEMPLATE_HASH_LABEL);
            if labels.is_empty() {
                metadata.remove("labels");
            }
        }
        let mut digest = Digest::default();
        serde_json::to_writer(&mut digest, &whole)?;
        Ok(TemplateDigest(digest.finish()))
    }
}

impl<'de> Deserialize<'de> for TemplateDigest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TemplateDigest::of(serde_json::Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A hasher written to as an `io::Write`.
#[derive(Default)]
pub(crate) struct Digest(std::collections::hash_map::DefaultHasher);

impl Digest {
    pub(crate) fn finish(&self) -> u64 {
        std::hash::Hasher::finish(&self.0)
    }
}

impl std::io::Write for Digest {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        std::hash::Hasher::write(&mut self.0, bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Box<[Container]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Box<[Container]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<Word>,
    /// Boxed: a RuntimeClass's, which few pods have.
    #[serde(default, deserialize_with = "boxed_quantities_read", skip_serializing_if = "Option::is_none")]
    pub overhead: Option<Box<Map<Quantity>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_gates: Option<Box<[core::PodSchedulingGate]>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: Box<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<Word>,
    /// Boxed, as most containers have neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Box<Probe>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Box<Probe>>,
}

/// A probe's timing: whether a container has one and how long it takes to pass or fail is what
/// the rules and the duration estimate read, not what it checks.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ResourceRequirements {
    #[serde(default, deserialize_with = "quantities_read", skip_serializing_if = "Option::is_none")]
    pub limits: Option<Map<Quantity>>,
    #[serde(default, deserialize_with = "quantities_read", skip_serializing_if = "Option::is_none")]
    pub requests: Option<Map<Quantity>>,
}

/// A Pod's status. Its reason, message and resize, which few pods have, are [`RareText`]s: with
/// the identity out of the metadata, a Pod then fits mimalloc's 384-byte class (was 448).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Word>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RareText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<RareText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// Those a rule reads ([`UNREAD_POD_CONDITIONS`] left out).
    #[serde(default, deserialize_with = "pod_conditions_read", skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Box<[PodCondition]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_statuses: Option<Box<[ContainerStatus]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container_statuses: Option<Box<[ContainerStatus]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<RareText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A text few objects have, behind a thin pointer: absent, it takes 8 bytes instead of 16.
pub type RareText = Box<Box<str>>;

/// A Pod's condition, as the rules read it: its type and status are one of a few [`Word`]s (a
/// Pod has four or five conditions). Its reason and message, which a condition carries only while
/// it is not as it should be (a pod not yet ready, not scheduled), are held in one box: a Pod's
/// three kept conditions then fit in 192 bytes instead of 264 (mimalloc's 320-byte class).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "PodConditionRead")]
pub struct PodCondition {
    pub type_: Word,
    pub status: Word,
    pub last_transition_time: Option<Time>,
    detail: Option<Box<ConditionDetail>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct ConditionDetail {
    reason: Option<Box<str>>,
    message: Option<Box<str>>,
}

impl PodCondition {
    pub fn reason(&self) -> Option<&str> {
        self.detail.as_ref()?.reason.as_deref()
    }

    pub fn message(&self) -> Option<&str> {
        self.detail.as_ref()?.message.as_deref()
    }
}

/// A Pod's condition as the API server writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodConditionRead {
    #[serde(rename = "type")]
    type_: Word,
    status: Word,
    #[serde(default)]
    reason: Option<Box<str>>,
    #[serde(default)]
    message: Option<Box<str>>,
    #[serde(default)]
    last_transition_time: Option<Time>,
}

/// A Pod's condition written as the API server writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodConditionWritten<'a> {
    #[serde(rename = "type")]
    type_: &'a Word,
    status: &'a Word,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_transition_time: Option<&'a Time>,
}

impl From<PodConditionRead> for PodCondition {
    fn from(read: PodConditionRead) -> Self {
        let PodConditionRead { type_, status, reason, message, last_transition_time } = read;
        let detail = (reason.is_some() || message.is_some()).then(|| Box::new(ConditionDetail { reason, message }));
        PodCondition { type_, status, last_transition_time, detail }
    }
}

impl Serialize for PodCondition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PodConditionWritten {
            type_: &self.type_,
            status: &self.status,
            reason: self.reason(),
            message: self.message(),
            last_transition_time: self.last_transition_time.as_ref(),
        }
        .serialize(serializer)
    }
}

/// The conditions kubelet writes on every pod that no rule reads: `ContainersReady` repeats the
/// containers' ready flags, `PodReadyToStartContainers` tells of the pod's sandbox. Not kept: they
/// were a tenth of a stored pod, and a tracker holds thousands.
const UNREAD_POD_CONDITIONS: [&str; 2] = ["ContainersReady", "PodReadyToStartContainers"];

fn pod_conditions_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<[PodCondition]>>, D::Error> {
    let conditions = Option::<Vec<PodCondition>>::deserialize(deserializer)?;
    Ok(conditions.map(|mut conditions| {
        conditions.retain(|condition| !UNREAD_POD_CONDITIONS.contains(&condition.type_.as_ref()));
        conditions.into_boxed_slice()
    }))
}

/// The words a Pod's phase, restart policies, conditions' types and statuses, an owner's kind,
/// and a Deployment's conditions (types and the controller's reasons) are almost always written
/// with.
const WORDS: &[&str] = &[
    "Pending",
    "Running",
    "Succeeded",
    "Failed",
    "Always",
    "OnFailure",
    "Never",
    "True",
    "False",
    "Unknown",
    "PodScheduled",
    "Initialized",
    "ContainersReady",
    "Ready",
    "PodReadyToStartContainers",
    "DisruptionTarget",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Node",
    "Available",
    "Progressing",
    "ReplicaFailure",
    "MinimumReplicasAvailable",
    "MinimumReplicasUnavailable",
    "NewReplicaSetAvailable",
    "NewReplicaSetCreated",
    "FoundNewReplicaSet",
    "ReplicaSetUpdated",
    "ProgressDeadlineExceeded",
    "DeploymentPaused",
    "DeploymentResumed",
];

/// An object's uid: a UUID as the API server writes it (36 characters, lowercase) held as its 16
/// bytes, with no allocation; any other text as written. Every object and owner reference holds
/// one, and the snapshot's indexes are keyed by them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Uid(UidForm);

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum UidForm {
    Uuid([u8; 16]),
    Other(Box<str>),
}

impl Uid {
    pub fn of(text: &str) -> Uid {
        Uid(Uid::uuid(text).map_or_else(|| UidForm::Other(text.into()), UidForm::Uuid))
    }

    /// The 16 bytes of a UUID written `8-4-4-4-12` in lowercase hex; `None` for anything else
    /// (an uppercase one too: two texts must not share one uid).
    fn uuid(text: &str) -> Option<[u8; 16]> {
        let text = text.as_bytes();
        if text.len() != 36 || [8, 13, 18, 23].iter().any(|&at| text[at] != b'-') {
            return None;
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut digits = text.iter().filter(|&&c| c != b'-').map(|&c| digit(c));
        let mut bytes = [0; 16];
        for byte in &mut bytes {
            *byte = (digits.next()?? << 4) | digits.next()??;
        }
        Some(bytes)
    }
}

/// Whether a uid written as text (an Event's `involvedObject.uid`) is this one.
impl PartialEq<str> for Uid {
    fn eq(&self, other: &str) -> bool {
        match &self.0 {
            UidForm::Uuid(bytes) => Uid::uuid(other).is_some_and(|other| other == *bytes),
            UidForm::Other(text) => **text == *other,
        }
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.0 {
            UidForm::Uuid(bytes) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut text = [b'-'; 36];
                let mut at = 0;
                for (index, byte) in bytes.iter().enumerate() {
                    if [4, 6, 8, 10].contains(&index) {
                        at += 1;
                    }
                    text[at] = HEX[usize::from(byte >> 4)];
                    text[at + 1] = HEX[usize::from(byte & 0xf)];
                    at += 2;
                }
                f.write_str(std::str::from_utf8(&text).expect("hex digits and dashes"))
            }
            UidForm::Other(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl Default for Uid {
    fn default() -> Self {
        Uid(UidForm::Other(Box::default()))
    }
}

impl Serialize for Uid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Uid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Uid::of(&<Cow<'de, str>>::deserialize(deserializer)?))
    }
}

/// A text that is almost always one of [`WORDS`]: held as its index then, in 16 bytes and no
/// allocation of its own; any other text as written.
#[derive(Clone, PartialEq, Eq)]
pub struct Word(Spelled);

#[derive(Clone, PartialEq, Eq)]
enum Spelled {
    /// An index into [`WORDS`].
    Known(u8),
    Other(Box<str>),
}

impl Word {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Spelled::Known(index) => WORDS[usize::from(*index)],
            Spelled::Other(text) => text,
        }
    }
}

impl From<&str> for Word {
    fn from(text: &str) -> Self {
        match WORDS.iter().position(|word| *word == text).and_then(|index| u8::try_from(index).ok()) {
            Some(index) => Word(Spelled::Known(index)),
            None => Word(Spelled::Other(text.into())),
        }
    }
}

impl Default for Word {
    fn default() -> Self {
        Word(Spelled::Other(Box::default()))
    }
}

impl std::ops::Deref for Word {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Word {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Word::from(&*<Cow<'de, str>>::deserialize(deserializer)?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: Box<str>,
    #[serde(default)]
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    #[serde(default)]
    pub restart_count: i32,
    #[serde(default)]
    pub image: Box<str>,
    #[serde(rename = "imageID", default)]
    pub image_id: Box<str>,
    /// Boxed, as most container statuses hold one state and no last state.
    #[serde(default, deserialize_with = "state_read", skip_serializing_if = "Option::is_none")]
    pub state: Option<Box<ContainerState>>,
    #[serde(default, deserialize_with = "state_read", skip_serializing_if = "Option::is_none")]
    pub last_state: Option<Box<ContainerState>>,
}

/// A container's state, k8s-openapi's fields with the two large ones boxed: a container is
/// running most of the time, and inline the waiting and terminated states are 200 bytes of
/// every state.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ContainerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<core::ContainerStateRunning>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Box<core::ContainerStateWaiting>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated: Option<Box<core::ContainerStateTerminated>>,
}

/// A container state, none when it says nothing: the API writes `lastState: {}` for a container
/// that has not restarted.
fn state_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<ContainerState>>, D::Error> {
    let state = Option::<ContainerState>::deserialize(deserializer)?;
    Ok(state.filter(|state| state.running.is_some() || state.terminated.is_some() || state.waiting.is_some()).map(Box::new))
}

// ---- Workloads ----

pub type Deployment = Object<DeploymentSpec, DeploymentStatus>;
pub type ReplicaSet = Object<ReplicaSetSpec, apps::ReplicaSetStatus>;
pub type StatefulSet = Object<StatefulSetSpec, apps::StatefulSetStatus>;
pub type DaemonSet = Object<DaemonSetSpec, apps::DaemonSetStatus>;
pub type Job = Object<JobSpec, batch::JobStatus>;
pub type CronJob = Object<batch::CronJobSpec, batch::CronJobStatus>;

/// k8s-openapi's `DeploymentStatus`, its conditions with words: every Deployment holds two
/// (Available, Progressing), whose types, statuses and reasons are the controller's few words.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Box<[DeploymentCondition]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminating_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_replicas: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentCondition {
    #[serde(rename = "type")]
    pub type_: Word,
    pub status: Word,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Word>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<apps::DeploymentStrategy>,
    #[serde(default)]
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    /// Only its digest: no rule reads a ReplicaSet's template otherwise (its pods say the rest).
    #[serde(default, skip_serializing)]
    pub template: Option<TemplateDigest>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_management_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinals: Option<apps::StatefulSetOrdinals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<apps::StatefulSetUpdateStrategy>,
    #[serde(default)]
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<apps::DaemonSetUpdateStrategy>,
    #[serde(default)]
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_policy: Option<batch::SuccessPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_replacement_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failed_indexes: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit_per_index: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_mode: Option<String>,
    #[serde(default)]
    pub template: PodTemplateSpec,
}

// ---- Others ----

pub type Service = Object<core::ServiceSpec, core::ServiceStatus>;
pub type PersistentVolumeClaim = Object<core::PersistentVolumeClaimSpec, core::PersistentVolumeClaimStatus>;
pub type Ingress = Object<networking::IngressSpec, networking::IngressStatus>;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControllerRevision {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub revision: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub involved_object: core::ObjectReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<core::EventSeries>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime>,
}

impl Event {
    /// When the event last happened, from whichever time its writer filled in: kubelet and most
    /// controllers write `lastTimestamp`, writers of the newer Events API `series` or `eventTime`.
    pub fn last_seen(&self) -> Option<jiff::Timestamp> {
        let series = self.series.as_ref().and_then(|s| s.last_observed_time.as_ref()).map(|t| t.0);
        let time = self.last_timestamp.as_ref().map(|t| t.0).or(series).or_else(|| self.event_time.as_ref().map(|t| t.0));
        time.or_else(|| self.first_timestamp.as_ref().map(|t| t.0)).or_else(|| self.metadata.creation_timestamp.as_ref().map(|t| t.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_reads_and_writes_as_its_text() {
        let condition: PodCondition = serde_json::from_str(r#"{"type": "Ready", "status": "True", "reason": "PodCompleted"}"#).unwrap();
        assert!(condition.type_ == "Ready" && condition.status == "True" && condition.type_ != "ContainersReady");
        assert_eq!(condition.type_, Word::from("Ready"));
        let gate: PodCondition = serde_json::from_str(r#"{"type": "example.com/gate", "status": "False"}"#).unwrap();
        assert_eq!((gate.type_.as_str(), gate.status.as_str()), ("example.com/gate", "False"), "a text outside the words is kept as written");
        assert_eq!(serde_json::to_value(&gate).unwrap(), serde_json::json!({"type": "example.com/gate", "status": "False"}));
        assert_eq!(format!("{:?} {}", condition.type_, condition.status), "\"Ready\" True");
        // What a word is for: 16 bytes, where a string is 24 and its text another allocation.
        assert_eq!(std::mem::size_of::<Word>(), 16);
    }

    #[test]
    fn a_uid_is_held_as_its_bytes_when_a_uuid_and_reads_and_writes_as_its_text() {
        let uuid = "9d81c4f7-2337-439a-8170-991b16098096";
        assert!(matches!(Uid::of(uuid).0, UidForm::Uuid(_)));
        assert_ne!(Uid::of(uuid), Uid::of("9d81c4f7-2337-439a-8170-991b16098097"));
        // Not a UUID as the API server writes one: kept as written, so two texts never share a uid.
        for other in [
            "u1",
            "9D81C4F7-2337-439A-8170-991B16098096",
            "9d81c4f7-2337-439a-8170-991b1609809g",
            "9d81c4f72-337-439a-8170-991b16098096",
            "9d81c4f7-2337-439a-8170-991b1609-096",
        ] {
            assert_eq!(Uid::of(other).0, UidForm::Other(other.into()), "{other}");
            assert_ne!(Uid::of(other), Uid::of(uuid));
            assert!(Uid::of(other) == *other && Uid::of(uuid) != *other, "{other}");
        }
        let meta: ObjectMeta =
            serde_json::from_str(&format!(r#"{{"uid": "{uuid}", "ownerReferences": [{{"kind": "ReplicaSet", "name": "web-1", "uid": "u1"}}]}}"#)).unwrap();
        assert!(meta.uid.as_ref().is_some_and(|uid| uid == uuid));
        assert_eq!(meta.uid.as_ref().map(ToString::to_string).as_deref(), Some(uuid));
        let written = serde_json::to_value(&meta).unwrap();
        assert_eq!((written["uid"].as_str(), written["ownerReferences"][0]["uid"].as_str()), (Some(uuid), Some("u1")));
        // What it is for: the 36 characters in the 24 bytes of the field, where a text would
        // take 16 and an allocation of 40.
        assert_eq!(std::mem::size_of::<Option<Uid>>(), 24);
    }

    #[test]
    fn a_deployments_conditions_hold_the_controllers_words_without_allocations_and_write_back_as_read() {
        let status = serde_json::json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
            "terminatingReplicas": 1, "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.",
             "lastUpdateTime": "2026-12-01T10:00:00Z", "lastTransitionTime": "2026-12-01T10:00:00Z"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet \"web-5d4f8\" has successfully progressed.",
             "lastUpdateTime": "2026-12-01T10:01:00Z", "lastTransitionTime": "2026-12-01T09:59:00Z"},
            {"type": "example.com/Audited", "status": "False", "reason": "NotYet"}]});
        let read: DeploymentStatus = serde_json::from_value(status.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), status);
        let conditions = read.conditions.as_deref().unwrap();
        let known = |word: &Word| matches!(word.0, Spelled::Known(_));
        assert!(conditions[..2].iter().all(|c| known(&c.type_) && known(&c.status) && c.reason.as_ref().is_some_and(known)));
        assert!(!known(&conditions[2].type_) && conditions[2].type_ == "example.com/Audited" && conditions[2].reason.as_deref() == Some("NotYet"));
        assert_eq!(read.terminating_replicas, Some(1), "a 1.33+ field is read");
    }

    #[test]
    fn a_pod_holds_what_few_pods_have_boxed_and_fits_the_allocation_class_below_400_bytes() {
        let pod = serde_json::json!({
            "metadata": {"deletionTimestamp": "2026-12-01T10:00:00Z"},
            "spec": {"containers": [], "overhead": {"cpu": "250m"}},
            "status": {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory.", "resize": "Infeasible"},
        });
        let read: Pod = serde_json::from_value(pod.clone()).unwrap();
        assert!(read.metadata.deletion_timestamp.is_some() && read.spec.as_ref().unwrap().overhead.as_ref().unwrap().get("cpu").is_some());
        let status = read.status.as_ref().unwrap();
        assert_eq!((status.reason.as_deref().map(|r| &**r), status.resize.as_deref().map(|r| &**r)), (Some("Evicted"), Some("Infeasible")));
        assert_eq!(serde_json::to_value(&read).unwrap(), pod);
        // A tracker holds a box of this per pod: mimalloc's classes go 320, 384, 448.
        assert!(std::mem::size_of::<Pod>() <= 384, "{} bytes", std::mem::size_of::<Pod>());
        // And of these per ReplicaSet and Deployment: 256 and 448 (was 320 and 512).
        assert!(std::mem::size_of::<ReplicaSet>() <= 256, "{} bytes", std::mem::size_of::<ReplicaSet>());
        assert!(std::mem::size_of::<Deployment>() <= 448, "{} bytes", std::mem::size_of::<Deployment>());
    }

    #[test]
    fn an_objects_name_namespace_and_resource_version_are_read_into_its_identity_and_not_written_back() {
        let meta: ObjectMeta =
            serde_json::from_value(serde_json::json!({"name": "web", "namespace": "shop", "resourceVersion": "42", "uid": "u1", "generation": 3})).unwrap();
        let identity = meta.identity.as_deref().unwrap();
        assert_eq!((identity.name.as_deref(), identity.namespace.as_deref(), identity.resource_version.as_deref()), (Some("web"), Some("shop"), Some("42")));
        assert_eq!((meta.uid.as_ref().map(ToString::to_string).as_deref(), meta.generation), (Some("u1"), Some(3)));
        // Stored, the identity is in the key; what is written back is what the object holds.
        assert_eq!(serde_json::to_value(&meta).unwrap(), serde_json::json!({"uid": "u1", "generation": 3}));
        let nameless: ObjectMeta = serde_json::from_value(serde_json::json!({"uid": "u1"})).unwrap();
        assert!(nameless.identity.is_none(), "no box for an identity that says nothing");
    }

    #[test]
    fn a_pods_conditions_are_kept_as_far_as_a_rule_reads_them() {
        let status: PodStatus = serde_json::from_value(serde_json::json!({"conditions": [
            {"type": "PodReadyToStartContainers", "status": "True"},
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
            {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "message": "containers with unready status: [app]"},
            {"type": "PodScheduled", "status": "True"},
            {"type": "example.com/gate", "status": "False"},
        ]}))
        .unwrap();
        let kept: Vec<&str> = status.conditions.iter().flatten().map(|c| c.type_.as_str()).collect();
        assert_eq!(kept, ["Initialized", "Ready", "PodScheduled", "example.com/gate"]);
        let conditions = status.conditions.as_deref().unwrap();
        assert_eq!((conditions[1].reason(), conditions[1].message()), (Some("ContainersNotReady"), Some("containers with unready status: [app]")));
        assert!(conditions[0].detail.is_none() && conditions[0].reason().is_none(), "no box for a condition without a reason or message");
        // Written back as read, with the reason and message beside the type and status.
        assert_eq!(
            serde_json::to_value(&conditions[1]).unwrap(),
            serde_json::json!({"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": "containers with unready status: [app]"})
        );
        // A Pod's three kept conditions in mimalloc's 192-byte class (88 bytes each, before: 320).
        assert!(3 * std::mem::size_of::<PodCondition>() <= 192, "{} bytes", std::mem::size_of::<PodCondition>());
        let none: PodStatus = serde_json::from_value(serde_json::json!({"conditions": null})).unwrap();
        assert!(none.conditions.is_none());
    }
}
