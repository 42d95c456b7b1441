//! Follow Kubernetes rollouts from Rust: apply manifests server-side, watch workloads until each
//! is ready or one fails, as a stream of verdict changes and a final outcome explaining every
//! failure.
//!
//! A [`Tracker`] follows objects until each is ready or one fails: it watches each (kind,
//! namespace) it needs once — the workloads, their ReplicaSets or ControllerRevisions, Pods and
//! Events — however many objects share it, feeds every change into a
//! [`rollwatch_verdict::Snapshot`] and recomputes the verdicts of the objects the change
//! affects. What you get is a stream of [`Update`]s (verdict changes) and a final [`Outcome`]
//! that explains every object that did not make it: failing pod and container, reason, exit
//! code, warning events and the last log lines.
//!
//! ```no_run
//! use futures::StreamExt;
//! use rollwatch_tracker::{ClusterOptions, End, TrackOptions, Tracker, Update};
//! use rollwatch_verdict::ObjectRef;
//!
//! # async fn example() -> Result<(), rollwatch_tracker::Error> {
//! let tracker = Tracker::connect(&ClusterOptions::default()).await?;
//! let web: ObjectRef = "deployment/web".parse::<ObjectRef>().unwrap().in_namespace("shop");
//! let mut tracking = tracker.track(vec![web], TrackOptions::default());
//! while let Some(update) = tracking.next().await {
//!     if let Update::Verdict(change) = update {
//!         println!("{}: {:?} {}", change.object, change.verdict.state, change.verdict.message);
//!     }
//! }
//! let outcome = tracking.outcome().await;
//! if let End::Failed = outcome.end {
//!     for object in outcome.objects.iter().filter(|o| !o.reached) {
//!         for detail in object.explanation.iter().flat_map(|e| &e.details) {
//!             println!("{}: {} {}", detail.reason.object, detail.reason.code, detail.reason.message);
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Besides tracking: [`apply`] (server-side apply of manifests, dry run first), [`select`]
//! (objects by label), [`set_image`], [`rollback`] (undo the Deployment rollouts a run started) and
//! [`rollout`] (history, undo, pause, resume, restart).

pub mod apply;
mod autoscaler;
mod connect;
mod engine;
mod error;
mod explain;
mod feed;
mod first_seen;
pub mod manifests;
mod pace;
#[doc(hidden)]
pub mod replay;
mod resources;
mod retry;
pub mod rollback;
pub mod rollout;
pub mod room;
pub mod select;
pub mod set_image;
mod timeline;
mod tracking;
mod watched;

pub use connect::{ClusterOptions, check_reachable, connect};
pub use error::{Error, ErrorKind};
pub use explain::{ContainerLogs, ContainerState, Detail, EventNote, Explanation, LOG_LIMIT_BYTES, Termination};
pub use feed::{FeedKey, FeedMode};
pub use resources::{Resolver, Resource};
pub use timeline::{PlannedWaves, PodChange, WarningEvent};
pub use tracking::{End, Goal, ObjectOutcome, Outcome, TrackOptions, Tracking, Update, VerdictChange};

use rollwatch_verdict::ObjectRef;
use tokio::sync::{mpsc, oneshot};

/// A connection to one cluster, and what rollwatch does with it.
#[derive(Clone)]
pub struct Tracker {
    client: kube::Client,
    /// The feeds' own client, whose connections time out when they go silent (see `feed`).
    feed_client: kube::Client,
    resolver: Resolver,
    namespace: String,
}

impl Tracker {
    /// Connects as kubectl would and checks that the API server answers.
    pub async fn connect(options: &ClusterOptions) -> Result<Self, Error> {
        let (config, namespace) = connect::config(options).await?;
        let mut feed_config = config.clone();
        feed_config.read_timeout = Some(feed::READ_TIMEOUT);
        let client = connect::client(config)?;
        check_reachable(&client).await?;
        let feed_client = connect::client(feed_config)?;
        Ok(Self { resolver: Resolver::new(client.clone()), client, feed_client, namespace })
    }

    /// A tracker over an existing client; `namespace` is the default for objects without one.
    /// Its watches use `client` as it is: without the read timeout [`Tracker::connect`] gives
    /// them, a connection that goes silent is resumed at kube's idle timeout (55 s) without the
    /// feed being marked stale meanwhile.
    pub fn new(client: kube::Client, namespace: String) -> Self {
        Self { resolver: Resolver::new(client.clone()), feed_client: client.clone(), client, namespace }
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The namespace of the kubeconfig's context (`default` if it names none).
    pub fn default_namespace(&self) -> &str {
        &self.namespace
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// Starts tracking `objects` (namespaced ones must name their namespace); must be called
    /// within a Tokio runtime.
    pub fn track(&self, objects: Vec<ObjectRef>, options: TrackOptions) -> Tracking {
        let (updates, updates_receiver) = mpsc::unbounded_channel();
        let (outcome_sender, outcome) = oneshot::channel();
        let (interrupt, interrupt_receiver) = oneshot::channel();
        let feeds = std::sync::Arc::new(feed::ClusterFeeds(self.feed_client.clone()));
        let engine = engine::Engine::new(self.client.clone(), self.resolver.clone(), options, feeds, updates);
        let task = tokio::spawn(async move {
            let outcome = engine.run(objects, interrupt_receiver).await;
            let _ = outcome_sender.send(outcome);
        });
        Tracking { updates: updates_receiver, outcome, interrupt: Some(interrupt), task }
    }
}
