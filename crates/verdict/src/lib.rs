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
//! Trouble on the current pods flows up to the workload, within the [`Policy`]'s tolerances:
//!
//! ```
//! use std::time::Duration;
//! use rollwatch_verdict::{parse_documents, ObjectRef, Policy, Snapshot, State};
//!
//! let objects = parse_documents(r#"
//! apiVersion: v1
//! kind: Pod
//! metadata: {name: tool, namespace: ops, creationTimestamp: "2026-01-01T00:00:00Z"}
//! spec: {containers: [{name: main, image: "tool:latest"}]}
//! status:
//!   phase: Pending
//!   startTime: "2026-01-01T00:00:00Z"
//!   containerStatuses:
//!   - name: main
//!     image: "tool:latest"
//!     imageID: ""
//!     ready: false
//!     restartCount: 0
//!     state: {waiting: {reason: ErrImagePull, message: "manifest unknown"}}
//! "#, "tool.yaml").unwrap();
//! let mut snapshot = Snapshot::new();
//! for object in objects {
//!     snapshot.upsert(object).unwrap();
//! }
//! let tool = ObjectRef::new("Pod", Some("ops".into()), "tool");
//! let policy = Policy { waiting_grace: Duration::from_secs(60), ..Policy::default() };
//! // 30 s after the start the pull may still succeed; 2 minutes after, it has failed.
//! let early = snapshot.verdict(&tool, &policy, "2026-01-01T00:00:30Z".parse().unwrap());
//! assert_eq!(early.state, State::Progressing);
//! let late = snapshot.verdict(&tool, &policy, "2026-01-01T00:02:00Z".parse().unwrap());
//! assert_eq!(late.state, State::Failed);
//! assert_eq!(late.message, r#"pod "tool" failed: pod/tool (main): ErrImagePull: manifest unknown"#);
//! assert_eq!(late.reasons[0].container.as_deref(), Some("main"));
//! ```
//!
//! Manifests from files go through [`parse_manifests`], which keeps each object's [`Origin`]
//! (file, document, List item) so that an error from [`Snapshot::upsert`] can name all three.
//!
//! How it is built: one small viewer per kind (module `kinds`), in kubectl's `rollout status` manner,
//! picked from one table, the [`registry`], as kstatus does (adding a kind is a row there and a
//! viewer file); pod troubles are found by small detectors ([`pods`]) whose
//! findings flow up to the workload, counting only pods of the current revision.

pub mod api;
pub mod capacity;
mod clock;
mod code;
pub mod estimate;
pub mod history;
mod kinds;
mod no_progress;
mod object_ref;
mod parse;
pub mod pod_state;
pub mod pods;
mod policy;
pub mod registry;
pub mod rules;
mod snapshot;
mod verdict;

pub use code::ReasonCode;
pub use object_ref::{ObjectRef, ObjectRefError, canonical_kind};
pub use parse::{MAX_FLOW_NESTING, MAX_INPUT_BYTES, Manifest, Origin, ParseError, parse_documents, parse_manifests};
pub use policy::Policy;
pub use snapshot::{Decoded, ObjectError, Snapshot, TypedKind};
pub use verdict::{Progress, Reason, Settling, State, Verdict};
