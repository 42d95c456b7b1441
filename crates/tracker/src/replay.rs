//! Tracking fed with recorded watch events instead of a cluster, as fast as the engine takes them
//! in: how the engine replay benchmark (`benches/replay.rs`) measures the engine alone — events
//! per second, CPU per event, memory, and what objects that wait cost. Each object comes as the
//! JSON text the API server sends and is read as a feed reads it (straight into its typed form),
//! so what is measured is what a watched object costs. Hidden from the documentation: a
//! benchmark's way in, not an interface to build on.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures::FutureExt;
use futures::future::BoxFuture;
use kube::core::ApiResource;
use kube::runtime::watcher::Event;
use rollwatch_verdict::ObjectRef;
use tokio::sync::{mpsc, oneshot};

use crate::engine::Engine;
use crate::feed::{FeedKey, FeedMessage, FeedMode, FeedSource, MapObjects};
use crate::watched::{Incoming, READING, Reading, Watched};
use crate::{Resolver, TrackOptions, Tracking};

/// Where the replayed feeds get their events.
pub trait Recorded: Send + Sync + 'static {
    /// The events of feed `key`, in order, as a watch delivers them: a list (`Init`, `InitApply`
    /// for each object, `InitDone`), then changes; each object as the JSON text of it sent.
    fn events(self: Arc<Self>, key: &FeedKey) -> Box<dyn Iterator<Item = Event<String>> + Send>;
}

/// Feeds that send what was recorded, one event at a time as a watch would, then stay open.
struct ReplayedFeeds(Arc<dyn Recorded>);

impl FeedSource for ReplayedFeeds {
    fn run(&self, key: FeedKey, index: usize, _mode: FeedMode, sender: mpsc::UnboundedSender<FeedMessage>) -> BoxFuture<'static, ()> {
        let events = Arc::clone(&self.0).events(&key);
        let reading = Reading::new(&key.resource.api);
        let replay = async move {
            for event in events {
                let event = event.map_objects(|text: String| read(&text, &key.resource.api));
                if sender.send(FeedMessage::Event { feed: index, event }).is_err() {
                    return;
                }
                // Let the engine take in what has come, as it would from a watch, rather than
                // every event of every feed being queued first.
                tokio::task::yield_now().await;
            }
            // A watch stays open after its last change.
            sender.closed().await;
        };
        READING.scope(reading, replay).boxed()
    }
}

/// An object's JSON text read as a feed reads it; what does not read typed is read as JSON, as
/// the feed's retry would.
fn read(text: &str, resource: &ApiResource) -> Incoming {
    let watched: Watched = serde_json::from_str(text).or_else(|_| serde_json::from_str(text)).expect("a recorded object reads as JSON");
    watched.into_incoming(resource)
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
