//! The tracking loop: feed events go into one [`Snapshot`]; the tracked objects they affect get
//! a fresh verdict at once, and all of them again on a periodic tick for what depends on time
//! alone. Verdicts are computed only once every feed has listed its objects, so an object is
//! never judged from half a picture.

use std::collections::{BTreeSet, HashMap, HashSet};

use kube::runtime::watcher::Event;
use rollwatch_verdict::{ObjectRef, Snapshot, State, Verdict};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::explain::explain;
use crate::feed::{self, FeedKey, FeedMessage, FeedMode};
use crate::pace::RolloutClock;
use crate::resources::{Resolver, Resource};
use crate::tracking::{End, Goal, ObjectOutcome, Outcome, TrackOptions, Update, VerdictChange};
use crate::Error;

/// The kinds whose objects a kind's verdict reads, in the same namespace.
fn companions(kind: &str) -> &'static [&'static str] {
    match kind {
        "Deployment" => &["ReplicaSet", "Pod", "Event"],
        "StatefulSet" | "DaemonSet" => &["ControllerRevision", "Pod", "Event"],
        "ReplicaSet" | "Job" => &["Pod", "Event"],
        "Pod" | "PersistentVolumeClaim" => &["Event"],
        _ => &[],
    }
}

struct Tracked {
    object: ObjectRef,
    verdict: Verdict,
    /// When the verdict last changed.
    changed: Instant,
    evaluated: bool,
    /// Fed with the object's versions, for the kinds with a rollout duration model.
    clock: RolloutClock,
    /// Whether the last update said "slower than expected".
    slower: bool,
}

/// Kinds whose rollouts the duration model covers.
fn has_rollout_model(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
}

struct FeedState {
    key: FeedKey,
    /// Has delivered a complete list at least once.
    synced: bool,
    /// Objects seen in a relist under way; those not seen again are gone.
    relisting: Option<HashSet<ObjectRef>>,
    known: HashSet<ObjectRef>,
}

pub(crate) struct Engine {
    client: kube::Client,
    resolver: Resolver,
    options: TrackOptions,
    started: Instant,
    snapshot: Snapshot,
    tracked: Vec<Tracked>,
    index: HashMap<ObjectRef, usize>,
    feeds: Vec<FeedState>,
    /// Object events taken in from the feeds (list items included), for the diagnostics log.
    events: u64,
    updates: mpsc::UnboundedSender<Update>,
}

impl Engine {
    pub(crate) fn new(client: kube::Client, resolver: Resolver, options: TrackOptions, updates: mpsc::UnboundedSender<Update>) -> Self {
        Self {
            client,
            resolver,
            options,
            started: Instant::now(),
            snapshot: Snapshot::new(),
            tracked: Vec::new(),
            index: HashMap::new(),
            feeds: Vec::new(),
            events: 0,
            updates,
        }
    }

    pub(crate) async fn run(mut self, objects: Vec<ObjectRef>, interrupt: oneshot::Receiver<()>) -> Outcome {
        let mut tasks = JoinSet::new();
        let (sender, mut receiver) = mpsc::unbounded_channel();
        if let Err(error) = self.plan(objects).await {
            return self.finish(End::Error(error)).await;
        }
        for (index, feed) in self.feeds.iter().enumerate() {
            tasks.spawn(feed::run(self.client.clone(), feed.key.clone(), index, self.options.mode, sender.clone()));
        }
        drop(sender);
        let deadline = self.options.timeout.map(|timeout| self.started + timeout);
        let mut recheck = tokio::time::interval(self.options.recheck_every);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut interrupt = interrupt;
        let mut synced_before = false;
        let end = loop {
            let mut dirty = BTreeSet::new();
            tokio::select! {
                _ = &mut interrupt => break End::Interrupted,
                _ = sleep_until(deadline) => break End::TimedOut,
                message = receiver.recv() => {
                    let Some(message) = message else {
                        break End::Error(Error::cluster("every feed stopped before the objects could be listed"));
                    };
                    if let Err(error) = self.take(message, &mut dirty) {
                        break End::Error(error);
                    }
                    // Take in what else has arrived before judging: a relist comes as many events.
                    let mut failed = None;
                    while let Ok(message) = receiver.try_recv() {
                        if let Err(error) = self.take(message, &mut dirty) {
                            failed = Some(error);
                            break;
                        }
                    }
                    if let Some(error) = failed {
                        break End::Error(error);
                    }
                }
                _ = recheck.tick() => dirty.extend(self.index.keys().cloned()),
            }
            if !self.feeds.iter().all(|f| f.synced) {
                continue;
            }
            if !synced_before {
                synced_before = true;
                dirty.extend(self.index.keys().cloned());
            }
            self.evaluate(&dirty);
            if let Some(end) = self.decide() {
                break end;
            }
        };
        tasks.abort_all();
        self.finish(end).await
    }

    /// Resolves the objects' kinds and works out the feeds they need, one per kind and namespace.
    async fn plan(&mut self, objects: Vec<ObjectRef>) -> Result<(), Error> {
        let mut feeds: Vec<FeedKey> = Vec::new();
        let mut add_feed = |key: FeedKey| {
            if !feeds.contains(&key) {
                feeds.push(key);
            }
        };
        for object in objects {
            let resource = self.resolver.for_kind(&object.kind).await?;
            let namespace = if resource.namespaced { object.namespace.clone() } else { None };
            if resource.namespaced && namespace.is_none() {
                return Err(Error::input(format!("{object}: a namespaced object needs a namespace")));
            }
            let object = ObjectRef::new(resource.api.kind.clone(), namespace.clone(), object.name);
            for companion in companions(&resource.api.kind) {
                let companion: Resource = self.resolver.for_kind(companion).await?;
                add_feed(FeedKey { resource: companion, namespace: namespace.clone() });
            }
            add_feed(FeedKey { resource, namespace });
            if !self.index.contains_key(&object) {
                self.index.insert(object.clone(), self.tracked.len());
                let verdict = Verdict::new(State::Unknown, format!("{object}: waiting for the cluster's answer"));
                self.tracked.push(Tracked {
                    object,
                    verdict,
                    changed: self.started,
                    evaluated: false,
                    clock: RolloutClock::default(),
                    slower: false,
                });
            }
        }
        self.feeds = feeds
            .into_iter()
            .map(|key| FeedState { key, synced: false, relisting: None, known: HashSet::new() })
            .collect();
        Ok(())
    }

    /// Takes one feed message into the snapshot, noting the tracked objects it may affect.
    fn take(&mut self, message: FeedMessage, dirty: &mut BTreeSet<ObjectRef>) -> Result<(), Error> {
        let (feed, event) = match message {
            FeedMessage::Trouble { feed, message, fatal } => {
                if fatal {
                    return Err(Error::access(message));
                }
                let _ = self.updates.send(Update::Trouble { feed: self.feeds[feed].key.to_string(), message });
                return Ok(());
            }
            FeedMessage::Event { feed, event } => (feed, event),
        };
        if matches!(event, Event::Apply(_) | Event::Delete(_) | Event::InitApply(_)) {
            self.events += 1;
        }
        match event {
            Event::Init => self.feeds[feed].relisting = Some(HashSet::new()),
            Event::InitApply(object) => {
                if let Some(key) = self.upsert(feed, object, dirty)
                    && let Some(seen) = self.feeds[feed].relisting.as_mut()
                {
                    seen.insert(key);
                }
            }
            Event::InitDone => {
                let seen = self.feeds[feed].relisting.take().unwrap_or_default();
                let gone: Vec<ObjectRef> = self.feeds[feed].known.difference(&seen).cloned().collect();
                for key in gone {
                    self.remove(&key, dirty);
                }
                self.feeds[feed].known = seen;
                self.feeds[feed].synced = true;
            }
            Event::Apply(object) => {
                self.upsert(feed, object, dirty);
            }
            Event::Delete(object) => {
                if let Some(key) = object_key(&object) {
                    self.feeds[feed].known.remove(&key);
                    self.remove(&key, dirty);
                }
            }
        }
        Ok(())
    }

    fn upsert(&mut self, feed: usize, object: Value, dirty: &mut BTreeSet<ObjectRef>) -> Option<ObjectRef> {
        let key = object_key(&object)?;
        let clock = if has_rollout_model(&key.kind) { self.index.get(&key).map(|&slot| &mut self.tracked[slot].clock) } else { None };
        if let Some(clock) = clock {
            clock.observe(&object);
        }
        if let Err(error) = self.snapshot.upsert(object) {
            let message = format!("cannot read {key} from the cluster: {error}");
            let _ = self.updates.send(Update::Trouble { feed: self.feeds[feed].key.to_string(), message });
            return None;
        }
        self.feeds[feed].known.insert(key.clone());
        self.mark_affected(&key, dirty);
        Some(key)
    }

    fn remove(&mut self, key: &ObjectRef, dirty: &mut BTreeSet<ObjectRef>) {
        self.mark_affected(key, dirty);
        self.snapshot.remove(key);
        if let Some(&slot) = self.index.get(key) {
            self.tracked[slot].clock.forget();
        }
    }

    fn mark_affected(&self, key: &ObjectRef, dirty: &mut BTreeSet<ObjectRef>) {
        dirty.extend(self.snapshot.workloads_affected_by(key).into_iter().filter(|w| self.index.contains_key(w)));
    }

    /// Recomputes the verdicts and rollout paces of `dirty` tracked objects and reports those
    /// whose verdict changed or that just fell behind the model (or caught up). The remaining time
    /// alone is not reported every second: the pace carries what a display needs to count down.
    fn evaluate(&mut self, dirty: &BTreeSet<ObjectRef>) {
        let now = jiff::Timestamp::now();
        let elapsed = self.started.elapsed();
        for object in dirty {
            let Some(&slot) = self.index.get(object) else { continue };
            let verdict = self.snapshot.verdict(object, &self.options.policy, now);
            let tracked = &mut self.tracked[slot];
            let pace = tracked.clock.pace(&verdict, elapsed);
            let slower = pace.is_some_and(|pace| pace.slower_than_expected());
            if tracked.evaluated && tracked.verdict == verdict && tracked.slower == slower {
                continue;
            }
            let previous = tracked.evaluated.then_some(tracked.verdict.state);
            tracked.slower = slower;
            if !tracked.evaluated || tracked.verdict != verdict {
                tracked.changed = Instant::now();
            }
            tracked.verdict = verdict.clone();
            tracked.evaluated = true;
            let change = VerdictChange { object: object.clone(), verdict, previous, at: now, elapsed, pace };
            let _ = self.updates.send(Update::Verdict(Box::new(change)));
        }
    }

    /// Whether the run is over, and how.
    fn decide(&self) -> Option<End> {
        decide(self.options.goal, self.options.mode, self.options.fail_fast, self.tracked.iter().map(|t| t.verdict.state))
    }

    /// The outcome, with explanations for the objects that did not reach the goal.
    async fn finish(self, end: End) -> Outcome {
        tracing::debug!(events = self.events, feeds = self.feeds.len(), tracked = self.tracked.len(), "tracking ended");
        let logs_tail = match end {
            End::Interrupted | End::Error(_) => 0,
            _ => self.options.logs_tail,
        };
        let mut objects = Vec::new();
        for tracked in &self.tracked {
            let reached = match self.options.goal {
                Goal::Ready => tracked.verdict.state == State::Ready,
                Goal::Deleted => tracked.verdict.state == State::NotFound,
            };
            let explanation = if reached || !tracked.evaluated || self.options.goal == Goal::Deleted {
                None
            } else {
                Some(explain(&self.client, &self.snapshot, &tracked.object, &tracked.verdict, logs_tail).await)
            };
            objects.push(ObjectOutcome {
                object: tracked.object.clone(),
                verdict: tracked.verdict.clone(),
                reached,
                last_change: tracked.changed.duration_since(self.started),
                explanation,
            });
        }
        Outcome { end, objects, elapsed: self.started.elapsed() }
    }
}

/// Whether a run with these states is over, and how: for readiness, done when all are ready,
/// failed at the first failure (fail fast) or once every state is final; a one-shot run ends at
/// once. A missing object counts as failed when waiting for readiness.
fn decide(goal: Goal, mode: FeedMode, fail_fast: bool, states: impl Iterator<Item = State> + Clone) -> Option<End> {
    let failed = |state: State| matches!(state, State::Failed | State::NotFound);
    let mut all = states.clone();
    match goal {
        Goal::Deleted if all.all(|s| s == State::NotFound) => Some(End::Ready),
        Goal::Deleted => (mode == FeedMode::Once).then_some(End::NotReady),
        Goal::Ready if all.all(|s| s == State::Ready) => Some(End::Ready),
        Goal::Ready if fail_fast && states.clone().any(failed) => Some(End::Failed),
        Goal::Ready if mode == FeedMode::Once || states.clone().all(State::is_final) => {
            Some(if states.clone().any(failed) { End::Failed } else { End::NotReady })
        }
        Goal::Ready => None,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The object's kind, namespace and name, as the snapshot keys it.
fn object_key(object: &Value) -> Option<ObjectRef> {
    let kind = object.get("kind")?.as_str()?;
    let metadata = object.get("metadata")?;
    let name = metadata.get("name")?.as_str()?;
    let namespace = metadata.get("namespace").and_then(Value::as_str).map(str::to_string);
    Some(ObjectRef::new(kind, namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ends(goal: Goal, mode: FeedMode, fail_fast: bool, states: &[State]) -> Option<&'static str> {
        decide(goal, mode, fail_fast, states.iter().copied()).map(|end| match end {
            End::Ready => "ready",
            End::Failed => "failed",
            End::NotReady => "not ready",
            End::TimedOut => "timed out",
            End::Interrupted => "interrupted",
            End::Error(_) => "error",
        })
    }

    #[test]
    fn fail_fast_stops_at_the_first_failure_and_wait_all_when_every_state_is_final() {
        let states = [State::Failed, State::Progressing];
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, true, &states), Some("failed"));
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, false, &states), None);
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, false, &[State::Failed, State::Ready]), Some("failed"));
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, false, &[State::Ready, State::Ready]), Some("ready"));
    }

    #[test]
    fn a_paused_object_ends_the_wait_as_not_ready_and_a_missing_one_as_failed() {
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, true, &[State::Paused, State::Ready]), Some("not ready"));
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, true, &[State::NotFound]), Some("failed"));
        assert_eq!(ends(Goal::Ready, FeedMode::Watch, true, &[State::Terminating, State::Unknown]), None);
    }

    #[test]
    fn a_one_shot_status_ends_at_once_and_polling_waits_like_watching() {
        assert_eq!(ends(Goal::Ready, FeedMode::Once, true, &[State::Progressing, State::Ready]), Some("not ready"));
        assert_eq!(ends(Goal::Ready, FeedMode::Poll(Duration::from_secs(2)), true, &[State::Progressing]), None);
    }

    #[test]
    fn waiting_for_deletion_ends_when_every_object_is_gone() {
        assert_eq!(ends(Goal::Deleted, FeedMode::Watch, true, &[State::NotFound, State::Terminating]), None);
        assert_eq!(ends(Goal::Deleted, FeedMode::Watch, true, &[State::NotFound, State::NotFound]), Some("ready"));
        assert_eq!(ends(Goal::Deleted, FeedMode::Once, true, &[State::Ready]), Some("not ready"));
    }

    #[test]
    fn workloads_watch_what_their_verdicts_read() {
        assert_eq!(companions("Deployment"), ["ReplicaSet", "Pod", "Event"]);
        assert_eq!(companions("StatefulSet"), ["ControllerRevision", "Pod", "Event"]);
        assert!(companions("ConfigMap").is_empty());
    }

    #[test]
    fn objects_are_keyed_by_kind_namespace_and_name() {
        let pod = serde_json::json!({"kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}});
        assert_eq!(object_key(&pod), Some(ObjectRef::new("Pod", Some("shop".into()), "web-1")));
        let namespace = serde_json::json!({"kind": "Namespace", "metadata": {"name": "shop"}});
        assert_eq!(object_key(&namespace), Some(ObjectRef::new("Namespace", None, "shop")));
        assert_eq!(object_key(&serde_json::json!({"metadata": {"name": "x"}})), None);
    }
}
