//! Tracking fed with recorded watch events instead of a cluster, as fast as the engine takes them
//! in: how the engine replay benchmark (`benches/replay.rs`) measures the engine alone — events
//! per second, CPU per event, memory, and what objects that wait cost. Hidden from the
//! documentation: a benchmark's way in, not an interface to build on.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures::FutureExt;
use futures::future::BoxFuture;
use kube::runtime::watcher::Event;
use rollwatch_verdict::ObjectRef;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::engine::Engine;
use crate::feed::{FeedKey, FeedMessage, FeedMode, FeedSource};
use crate::watched::Incoming;
use crate::{Resolver, TrackOptions, Tracking};

/// Where the replayed feeds get their events.
pub trait Recorded: Send + Sync + 'static {
    /// The events of feed `key`, in order, as a watch delivers them: a list (`Init`, `InitApply`
    /// for each object, `InitDone`), then changes.
    fn events(self: Arc<Self>, key: &FeedKey) -> Box<dyn Iterator<Item = Event<Value>> + Send>;
}

/// Feeds that send what was recorded, one event at a time as a watch would, then stay open.
struct ReplayedFeeds(Arc<dyn Recorded>);

impl FeedSource for ReplayedFeeds {
    fn run(&self, key: FeedKey, index: usize, _mode: FeedMode, sender: mpsc::UnboundedSender<FeedMessage>) -> BoxFuture<'static, ()> {
        let events = Arc::clone(&self.0).events(&key);
        async move {
            for event in events {
                if sender.send(FeedMessage::Event { feed: index, event: incoming(event) }).is_err() {
                    return;
                }
                // Let the engine take in what has come, as it would from a watch, rather than
                // every event of every feed being queued first.
                tokio::task::yield_now().await;
            }
            // A watch stays open after its last change.
            sender.closed().await;
        }
        .boxed()
    }
}

/// A recorded event as the engine takes it in: the object as JSON, read into its typed form by the
/// engine (the way a feed hands over an object it could not read typed).
fn incoming(event: Event<Value>) -> Event<Incoming> {
    match event {
        Event::Apply(object) => Event::Apply(Incoming::Json(object)),
        Event::Delete(object) => Event::Delete(Incoming::Json(object)),
        Event::Init => Event::Init,
        Event::InitApply(object) => Event::InitApply(Incoming::Json(object)),
        Event::InitDone => Event::InitDone,
    }
}

/// Tracks `objects` from `recorded`; built-in kinds need nothing from `client`'s server, whose
/// answers (to the autoscaler probe, the explanation of a failure) may as well be refusals.
/// Returns the run and the count of verdicts the engine has computed, as it goes on.
pub fn track(client: kube::Client, objects: Vec<ObjectRef>, options: TrackOptions, recorded: Arc<dyn Recorded>) -> (Tracking, Arc<AtomicU64>) {
    let (updates, updates_receiver) = mpsc::unbounded_channel();
    let (outcome_sender, outcome) = oneshot::channel();
    let (interrupt, interrupt_receiver) = oneshot::channel();
    let engine = Engine::new(client.clone(), Resolver::new(client), options, Arc::new(ReplayedFeeds(recorded)), updates);
    let evaluations = engine.evaluations();
    let task = tokio::spawn(async move {
        let outcome = engine.run(objects, interrupt_receiver).await;
        let _ = outcome_sender.send(outcome);
    });
    (Tracking { updates: updates_receiver, outcome, interrupt: Some(interrupt), task }, evaluations)
}
