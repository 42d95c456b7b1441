//! The objects of the kinds with typed rules, cut down to the fields rollwatch reads.
//!
//! k8s-openapi's types hold every field of the API: a Pod read into them is some 8 KB however
//! little it says (a `Container` alone is 2 KB of mostly empty fields), and reading them builds
//! what no rule looks at, managedFields first. A tracker keeps thousands of objects, so it reads
//! them into these instead: the same names and shapes as k8s-openapi's (the rules read them the
//! same way), holding only what the rules, the duration estimate and the timeline read. Fields
//! not named here are skipped while reading, without being built, and so are the annotations no
//! rule reads. Leaf types that are small and read whole (conditions, container states, probes,
//! update strategies) are k8s-openapi's own.
//!
//! Lists are boxed slices: read into a `Vec`, which holds room for four entries or more, and cut
//! to their length (a Pod's one container status would otherwise take 2 KB). Maps (labels,
//! annotations, resources) are small sorted lists.
//!
//! Adding a rule that reads a field not here: add the field here; the compiler names the place.
//! A rule that reads an annotation adds it to the list of `is_read` below.

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

use crate::history::{POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION};
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Map<String>>,
    #[serde(default, deserialize_with = "annotations_read", skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Box<[OwnerReference]>>,
}

/// Whether a rule reads the annotation: rollwatch's own, the Deployment controller's revision,
/// the conditions autoscaling/v1 keeps. The others are skipped while reading: kubectl's
/// last-applied-configuration alone is often the largest part of a workload.
fn is_read(annotation: &str) -> bool {
    annotation.starts_with("rollwatch.dev/") || [REVISION_ANNOTATION, V1_CONDITIONS_ANNOTATION].contains(&annotation)
}

/// The annotations [`is_read`] keeps.
fn annotations_read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Map<String>>, D::Error> {
    struct ReadAnnotations;
    impl<'de> Visitor<'de> for ReadAnnotations {
        type Value = Option<Map<String>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of annotations")
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
            let mut annotations = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if is_read(&key) {
                    annotations.insert(key, map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(Some(annotations))
        }
    }
    deserializer.deserialize_option(ReadAnnotations)
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
        let mut whole = serde_json::Value::deserialize(deserializer)?;
        let kept: Kept = serde_path_to_error::deserialize(&whole).map_err(|error| serde::de::Error::custom(format!("{}: {}", error.path(), error.inner())))?;
        if let Some(metadata) = whole.get_mut("metadata").and_then(serde_json::Value::as_object_mut)
            && let Some(labels) = metadata.get_mut("labels").and_then(serde_json::Value::as_object_mut)
        {
            labels.remove(POD_TEMPLATE_HASH_LABEL);
            if labels.is_empty() {
                metadata.remove("labels");
            }
        }
        let mut digest = Digest::default();
        serde_json::to_writer(&mut digest, &whole).map_err(serde::de::Error::custom)?;
        Ok(PodTemplateSpec { metadata: kept.metadata, spec: kept.spec, digest: digest.finish() })
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
    pub readiness_probe: Option<Box<core::Probe>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Box<core::Probe>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Box<core::Probe>>,
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
    pub conditions: Option<Box<[core::PodCondition]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_statuses: Option<Box<[ContainerStatus]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container_statuses: Option<Box<[ContainerStatus]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<core::ContainerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state: Option<core::ContainerState>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplateSpec>,
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
