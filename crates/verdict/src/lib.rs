//! Pure verdicts: ready, progressing or failed, and why, from Kubernetes objects. No I/O, no async.
//!
//! Objects go into a [`Snapshot`] (as `serde_json::Value`, e.g. from [`parse_documents`] or a
//! watch); [`Snapshot::verdict`] answers for one object, reading its children by owner
//! references (Deployment → ReplicaSets → Pods, StatefulSet/DaemonSet → ControllerRevisions and
//! Pods, Job → Pods) and the Events about them. The clock is passed in, so a verdict is a pure
//! function of its inputs.
//!
//! ```
//! use rollwatch_verdict::{parse_documents, ObjectRef, Policy, Snapshot, State};
//!
//! let objects = parse_documents(r#"
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop, generation: 2, uid: d1}
//! spec: {replicas: 2}
//! status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}
//! "#, "web.yaml").unwrap();
//! let mut snapshot = Snapshot::new();
//! for object in objects {
//!     snapshot.upsert(object).unwrap();
//! }
//! let web: ObjectRef = "deploy/web".parse::<ObjectRef>().unwrap().in_namespace("shop");
//! let verdict = snapshot.verdict(&web, &Policy::default(), jiff::Timestamp::UNIX_EPOCH);
//! assert_eq!(verdict.state, State::Ready);
//! assert_eq!(verdict.message, r#"deployment "web" successfully rolled out"#);
//! ```
//!
//! How it is built: one small viewer per kind (module `kinds`), in kubectl's `rollout status` manner,
//! picked from a table as kstatus does; pod troubles are found by small detectors ([`pods`]) whose
//! findings flow up to the workload, counting only pods of the current revision.

pub mod estimate;
mod kinds;
mod object_ref;
mod parse;
mod policy;
pub mod pods;
mod snapshot;
mod verdict;

pub use object_ref::{ObjectRef, ObjectRefError, canonical_kind};
pub use parse::{Manifest, Origin, ParseError, parse_documents, parse_manifests};
pub use policy::Policy;
pub use snapshot::{ObjectError, Snapshot};
pub use verdict::{Progress, Reason, State, Verdict};
