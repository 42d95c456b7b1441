//! The objects of the kinds with typed rules, cut down to the fields rollwatch reads.
//!
//! k8s-openapi's types hold every field of the API: a Pod read into them is some 8 KB however
//! little it says (a `Container` alone is 2 KB of mostly empty fields), and reading them builds
//! what no rule looks at, managedFields first. A tracker keeps thousands of objects, so it reads
//! them into these instead: the same names and shapes as k8s-openapi's (the rules read them the
//! same way), holding only what the rules, the duration estimate and the timeline read. Fields
//! not named here are skipped while reading, without being built, and so are the labels and
//! annotations no rule reads. A ReplicaSet's template is kept as its digest alone; a Pod's
//! conditions and its containers' probes are cut to what the rules read. Other leaf types that
//! are small and read whole (container states, workload conditions, update strategies) are
//! k8s-openapi's own; container states are boxed, and an empty one (`lastState: {}`) is none.
//!
//! Lists are boxed slices: read into a `Vec`, which holds room for four entries or more, and cut
//! to their length (a Pod's one container status would otherwise take 2 KB). Maps (labels,
//! annotations, resources) are small sorted lists.
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
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use litemap::LiteMap;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::history::{POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, REVISION_HASH_LABEL};
use crate::kinds::autoscaler::V1_CONDITIONS_ANNOTATION;

/// A map of a few entries (labels, annotations, resources), sorted in one allocation: a
/// BTreeMap's node is half a KB however few its entries.
pub type Map<V> = LiteMap<String, V>;

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
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    #[serde(default, deserialize_with = "labels_read", skip_serializing_if = "Option::is_none")]
    pub labels: Option<Map<String>>,
    #[serde(default, deserialize_with = "annotations_read", skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Box<[OwnerReference]>>,
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
                entries.insert(key, map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        // None rather than empty: an empty LiteMap would be written as a list.
        Ok((!entries.is_empty()).then_some(entries))
    }
}

// ---- Pods ----

pub type Pod = Object<PodSpec, PodStatus>;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PodTemplateSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    /// The whole template as sent, its `pod-template-hash` label aside, digested: whether a
    /// ReplicaSet's template is its Deployment's is decided on all of it (a new env var, the
    /// `restartedAt` annotation of a restart), not on the few fields kept above.
    #[serde(skip)]
    pub digest: u64,
}

impl<'de> Deserialize<'de> for PodTemplateSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Kept {
            #[serde(default)]
            metadata: Option<ObjectMeta>,
            #[serde(default)]
            spec: Option<PodSpec>,
        }
        let whole = serde_json::Value::deserialize(deserializer)?;
        let kept: Kept = serde_path_to_error::deserialize(&whole).map_err(|error| serde::de::Error::custom(format!("{}: {}", error.path(), error.inner())))?;
        let TemplateDigest(digest) = TemplateDigest::of(whole).map_err(serde::de::Error::custom)?;
        Ok(PodTemplateSpec { metadata: kept.metadata, spec: kept.spec, digest })
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
    pub node_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<Map<Quantity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_gates: Option<Box<[core::PodSchedulingGate]>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Map<Quantity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Map<Quantity>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Box<[PodCondition]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_statuses: Option<Box<[ContainerStatus]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container_statuses: Option<Box<[ContainerStatus]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A Pod's condition, as the rules read it: its type and status are one of a few words, held
/// without an allocation of their own (a Pod has four or five conditions).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodCondition {
    #[serde(rename = "type", deserialize_with = "word")]
    pub type_: Cow<'static, str>,
    #[serde(deserialize_with = "word")]
    pub status: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
}

/// The words a Pod condition's type and status are almost always written with.
const WORDS: &[&str] =
    &["True", "False", "Unknown", "PodScheduled", "Initialized", "ContainersReady", "Ready", "PodReadyToStartContainers", "DisruptionTarget"];

/// A text read as one of [`WORDS`] when it is one, else as written.
fn word<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'static, str>, D::Error> {
    let text = <Cow<'de, str>>::deserialize(deserializer)?;
    Ok(match WORDS.iter().find(|word| **word == text) {
        Some(word) => Cow::Borrowed(word),
        None => Cow::Owned(text.into_owned()),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    #[serde(default)]
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    #[serde(default)]
    pub restart_count: i32,
    #[serde(default)]
    pub image: String,
    #[serde(rename = "imageID", default)]
    pub image_id: String,
    /// Boxed, as most container statuses hold one state and no last state: inline, the two
    /// would be 400 bytes of each container status.
    #[serde(default, deserialize_with = "state_read", skip_serializing_if = "Option::is_none")]
    pub state: Option<Box<core::ContainerState>>,
    #[serde(default, deserialize_with = "state_read", skip_serializing_if = "Option::is_none")]
    pub last_state: Option<Box<core::ContainerState>>,
}

/// A container state, none when it says nothing: the API writes `lastState: {}` for a container
/// that has not restarted.
fn state_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<core::ContainerState>>, D::Error> {
    let state = Option::<core::ContainerState>::deserialize(deserializer)?;
    Ok(state.filter(|state| state.running.is_some() || state.terminated.is_some() || state.waiting.is_some()).map(Box::new))
}

// ---- Workloads ----

pub type Deployment = Object<DeploymentSpec, apps::DeploymentStatus>;
pub type ReplicaSet = Object<ReplicaSetSpec, apps::ReplicaSetStatus>;
pub type StatefulSet = Object<StatefulSetSpec, apps::StatefulSetStatus>;
pub type DaemonSet = Object<DaemonSetSpec, apps::DaemonSetStatus>;
pub type Job = Object<JobSpec, batch::JobStatus>;
pub type CronJob = Object<batch::CronJobSpec, batch::CronJobStatus>;

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
