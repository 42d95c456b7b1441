//! The tracking loop: feed events go into one [`Snapshot`]; the tracked objects they affect get
//! a fresh verdict at once. For what depends on time alone, each verdict says when it would
//! change by time ([`Verdict::changes_at`]), as does the pace's "slower than expected" hint, and
//! the loop sleeps until the earliest of those instants (or an event), then judges only the
//! objects due: objects that wait cost nothing. Verdicts are computed only once every feed has
//! listed its objects, so an object is never judged from half a picture.
//!
//! A feed that errs or relists is *stale*: the picture may lag behind the cluster. While any
//! feed an object depends on is stale, the object gets no final verdict (ready, failed, ...),
//! and while any feed is stale the time the rules read stands still, so a grace period cannot
//! run out, nor a stable window fill up, on data nobody is updating. A relist is taken in
//! whole before the objects it touches are judged again: new versions and deletions together.
//! The rules' timestamps are retimed to when rollwatch first saw them (`first_seen`), so the
//! runner's clock being off from the API server's changes nothing.
//!
//! A feed the registry says is needed only once a pod cannot be scheduled ([`Needed`]) starts
//! when the first such pod of its namespace arrives, and, like any feed, is listed before the
//! next verdict; the cluster autoscaler's status is asked then too.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use kube::runtime::watcher::Event;
use rollwatch_verdict::registry::{self, Needed};
use rollwatch_verdict::{Decoded, ObjectRef, Snapshot, State, Verdict};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Error;
use crate::autoscaler;
use crate::explain::explain;
use crate::feed::{FeedKey, FeedMessage, FeedMode, FeedSource};
use crate::first_seen::FirstSeen;
use crate::pace::RolloutClock;
use crate::resources::{Resolver, Resource};
use crate::retry::retrying;
use crate::timeline::{PlannedWaves, Recorder, Seen};
use crate::tracking::{End, Goal, ObjectOutcome, Outcome, TrackOptions, Update, VerdictChange};
use crate::watched::Incoming;

/// A kind that may be served by a CustomResourceDefinition (see the registry).
fn is_custom(resource: &Resource) -> bool {
    registry::is_custom_group(&resource.api.group)
}

struct Tracked {
    /// Shared with `Engine::index`.
    object: Arc<ObjectRef>,
    verdict: Verdict,
    /// When the verdict last changed.
    changed: Instant,
    evaluated: bool,
    /// Fed with the object's versions, for the kinds with a rollout duration model.
    clock: RolloutClock,
    /// Whether the last update said "slower than expected".
    slower: bool,
    /// When the status of the object or of one of its children (pods, ReplicaSets) last changed
    /// on the rules' clock, for the no-progress rule.
    progressed: Option<jiff::Timestamp>,
    /// The feeds its verdict reads (indexes into `Engine::feeds`).
    feeds: Vec<usize>,
    /// When to judge it again though nothing changed (its entry in `Engine::wakes`).
    wake: Option<Instant>,
}

struct FeedState {
    key: FeedKey,
    /// Only related kinds the verdicts can do without read it (the registry's `optional`):
    /// denied access to it is noted and tracking goes on.
    optional: bool,
    /// From when it is read: until then it is not started, and counts as current.
    needed: Needed,
    started: bool,
    /// Has delivered a complete list at least once.
    synced: bool,
    /// Why its objects may lag behind the cluster (an error, a relist under way); `None` while
    /// it is current.
    stale: Option<String>,
    /// Objects seen in a relist under way; those not seen again are gone.
    relisting: Option<HashSet<Arc<ObjectRef>>>,
    /// Its objects, by the snapshot's keys (shared, not copied).
    known: HashSet<Arc<ObjectRef>>,
    /// Access to it was denied, and tracking goes on without it.
    denied: bool,
}

/// The time the verdicts' rules read: the wall-clock time tracking started plus the monotonic
/// time since, standing still while any feed is stale.
struct RulesClock {
    wall_start: jiff::Timestamp,
    started: Instant,
    /// Time spent standing still, before the current pause.
    paused: Duration,
    paused_since: Option<Instant>,
}

impl RulesClock {
    fn new(started: Instant) -> Self {
        Self { wall_start: jiff::Timestamp::now(), started, paused: Duration::ZERO, paused_since: None }
    }

    fn now(&self) -> jiff::Timestamp {
        let at = self.paused_since.unwrap_or_else(Instant::now);
        let running = at.duration_since(self.started).saturating_sub(self.paused);
        self.wall_start.checked_add(running).unwrap_or(jiff::Timestamp::MAX)
    }

    /// Stands still while `stale`, runs on otherwise.
    fn hold(&mut self, stale: bool) {
        match (stale, self.paused_since) {
            (true, None) => self.paused_since = Some(Instant::now()),
            (false, Some(since)) => {
                self.paused += since.elapsed();
                self.paused_since = None;
            }
            _ => {}
        }
    }
}

pub(crate) struct Engine {
    client: kube::Client,
    resolver: Resolver,
    options: TrackOptions,
    source: Arc<dyn FeedSource>,
    started: Instant,
    rules_clock: RulesClock,
    first_seen: FirstSeen,
    snapshot: Snapshot,
    tracked: Vec<Tracked>,
    index: HashMap<Arc<ObjectRef>, usize>,
    feeds: Vec<FeedState>,
    /// Tracked objects to judge once the relist they wait for is complete.
    deferred: BTreeSet<ObjectRef>,
    /// A digest of each object's status, to notice when it changes (no-progress rule only).
    statuses: HashMap<ObjectRef, u64>,
    /// Object events taken in from the feeds (list items included), for the diagnostics log.
    events: u64,
    /// The pods and warning events reported for a timeline (with `TrackOptions::timeline`).
    recorder: Recorder,
    /// Verdicts computed, for the diagnostics log and whoever holds a copy (a test, a benchmark).
    evaluations: Arc<AtomicU64>,
    /// The tracked objects to judge again at an instant, by their slot, earliest first.
    wakes: BTreeSet<(Instant, usize)>,
    /// Feeds not started yet (the registry's [`Needed::OnceUnschedulable`]).
    unstarted: usize,
    /// Feeds found needed, for the loop to start.
    to_start: Vec<usize>,
    updates: mpsc::UnboundedSender<Update>,
}

impl Engine {
    pub(crate) fn new(
        client: kube::Client,
        resolver: Resolver,
        options: TrackOptions,
        source: Arc<dyn FeedSource>,
        updates: mpsc::UnboundedSender<Update>,
    ) -> Self {
        let started = Instant::now();
        Self {
            client,
            resolver,
            options,
            source,
            started,
            rules_clock: RulesClock::new(started),
            first_seen: FirstSeen::default(),
            snapshot: Snapshot::new(),
            tracked: Vec::new(),
            index: HashMap::new(),
            feeds: Vec::new(),
            deferred: BTreeSet::new(),
            statuses: HashMap::new(),
            events: 0,
            recorder: Recorder::default(),
            evaluations: Arc::default(),
            wakes: BTreeSet::new(),
            unstarted: 0,
            to_start: Vec::new(),
            updates,
        }
    }

    /// The count of verdicts computed, as the run goes on.
    pub(crate) fn evaluations(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.evaluations)
    }

    pub(crate) async fn run(mut self, objects: Vec<ObjectRef>, interrupt: oneshot::Receiver<()>) -> Outcome {
        let mut tasks = JoinSet::new();
        let (sender, mut receiver) = mpsc::unbounded_channel();
        if let Err(error) = self.plan(objects).await {
            return self.finish(End::Error(error)).await;
        }
        for (index, feed) in self.feeds.iter().enumerate().filter(|(_, feed)| feed.started) {
            tasks.spawn(self.source.run(feed.key.clone(), index, self.options.mode, sender.clone()));
        }
        // Kept while feeds may start later: once every feed is started and has stopped, nothing
        // more can come.
        let mut later_feeds = (self.unstarted > 0).then_some(sender);
        // Whether a cluster autoscaler runs, asked when an unschedulable pod makes it matter,
        // beside the feeds (not before them: a slow answer must not hold tracking back); until it
        // is known, the unschedulable rule assumes one may.
        let mut autoscaler_probe = None;
        let mut autoscaler_asked = false;
        let deadline = self.deadline();
        let mut recheck = self.options.recheck_every.map(tokio::time::interval);
        if let Some(recheck) = recheck.as_mut() {
            recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        }
        let mut interrupt = interrupt;
        let mut synced_before = false;
        let end = loop {
            let mut dirty = std::mem::take(&mut self.deferred);
            let wake = self.wakes.first().map(|&(at, _)| at);
            tokio::select! {
                _ = &mut interrupt => break End::Interrupted,
                _ = sleep_until(deadline) => break End::TimedOut,
                probed = async { autoscaler_probe.as_mut().expect("guarded").await }, if autoscaler_probe.is_some() => {
                    autoscaler_probe = None;
                    match probed {
                        Ok(autoscaler) => self.snapshot.set_autoscaler(autoscaler),
                        Err(message) => {
                            let _ = self.updates.send(Update::Note { message });
                        }
                    }
                    dirty.extend(self.index.keys().map(|key| ObjectRef::clone(key)));
                }
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
                    if let Some(sender) = &later_feeds
                        && !self.to_start.is_empty()
                    {
                        for index in std::mem::take(&mut self.to_start) {
                            tasks.spawn(self.source.run(self.feeds[index].key.clone(), index, self.options.mode, sender.clone()));
                        }
                        // Started because a pod cannot be scheduled (the one reason a feed starts late).
                        if !autoscaler_asked {
                            autoscaler_asked = true;
                            let client = self.client.clone();
                            autoscaler_probe = Some(Box::pin(async move { autoscaler::probe(&client).await }));
                        }
                    }
                    if self.unstarted == 0 {
                        later_feeds = None;
                    }
                }
                _ = sleep_until(wake) => self.take_due(&mut dirty),
                _ = async { recheck.as_mut().expect("guarded").tick().await }, if recheck.is_some() => dirty.extend(self.index.keys().map(|key| ObjectRef::clone(key))),
            }
            self.rules_clock.hold(self.feeds.iter().any(|f| f.stale.is_some()));
            if !self.feeds.iter().all(|f| f.synced) {
                continue;
            }
            if !synced_before {
                synced_before = true;
                dirty.extend(self.index.keys().map(|key| ObjectRef::clone(key)));
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
        let mut feeds: Vec<(FeedKey, bool, Needed)> = Vec::new();
        // Feeds by key: with many objects in many namespaces, a search of the list per object
        // grew with objects × feeds (at 100,000 objects, 6,000 feeds: most of the replay's CPU).
        let mut feed_index: HashMap<FeedKey, usize> = HashMap::new();
        // Optional if every object reading it can do without; needed from the start if one does.
        let mut add_feed = |key: FeedKey, optional: bool, needed: Needed| match feed_index.get(&key) {
            Some(&index) => {
                feeds[index].1 &= optional;
                if needed == Needed::Always {
                    feeds[index].2 = Needed::Always;
                }
                index
            }
            None => {
                feed_index.insert(key.clone(), feeds.len());
                feeds.push((key, optional, needed));
                feeds.len() - 1
            }
        };
        // Room for every tracked object at once: a list grown one by one holds up to twice it.
        self.tracked.reserve_exact(objects.len());
        self.index.reserve(objects.len());
        for object in objects {
            let resource = self.resolver.for_kind(&object.group, &object.kind).await?;
            let namespace = if resource.namespaced { object.namespace.clone() } else { None };
            if resource.namespaced && namespace.is_none() {
                return Err(Error::input(format!("{object}: a namespaced object needs a namespace")));
            }
            let object = ObjectRef::in_group(&resource.api.group, resource.api.kind.clone(), namespace.clone(), object.name);
            let mut needed = Vec::new();
            let listed_in = if self.options.all_namespaces { None } else { namespace.clone() };
            for related in object.row().map_or(&[][..], |row| row.related) {
                let companion: Resource = self.resolver.for_row(related.kind).await?;
                let namespace = if companion.namespaced { listed_in.clone() } else { None };
                needed.push(add_feed(FeedKey { resource: companion, namespace, name: None, fields: related.fields }, related.optional, related.needed));
            }
            // A kind without a status is ready once it exists: its object alone is read, by GETs.
            let statusless = object.row().is_some_and(|row| !row.has_status);
            let name = statusless.then(|| object.name.clone());
            let namespace = if statusless { namespace } else { listed_in };
            needed.push(add_feed(FeedKey { resource, namespace, name, fields: None }, false, Needed::Always));
            needed.shrink_to_fit();
            if !self.index.contains_key(&object) {
                let object = Arc::new(object);
                self.index.insert(Arc::clone(&object), self.tracked.len());
                let verdict = Verdict::new(State::Unknown, format!("{object}: waiting for the cluster's answer"));
                self.tracked.push(Tracked {
                    object,
                    verdict,
                    changed: self.started,
                    evaluated: false,
                    clock: RolloutClock::default(),
                    slower: false,
                    progressed: None,
                    feeds: needed,
                    wake: None,
                });
            }
        }
        self.feeds = feeds
            .into_iter()
            .map(|(key, optional, needed)| {
                let started = needed == Needed::Always;
                FeedState {
                    key,
                    optional,
                    needed,
                    started,
                    synced: !started,
                    stale: started.then(|| "not listed yet".into()),
                    relisting: None,
                    known: HashSet::new(),
                    denied: false,
                }
            })
            .collect();
        self.unstarted = self.feeds.iter().filter(|feed| !feed.started).count();
        let custom: Vec<Resource> = self.feeds.iter().map(|feed| feed.key.resource.clone()).filter(is_custom).collect();
        for resource in custom.into_iter().collect::<HashSet<_>>() {
            self.read_definition(&resource).await;
        }
        Ok(())
    }

    /// Reads the CustomResourceDefinition of a custom resource kind into the snapshot, once per
    /// run: whether it declares a status subresource tells an object its controller has not
    /// answered yet (no status) from one that has nothing to report. Denied or missing, the
    /// objects are judged as without it, and a note says so.
    async fn read_definition(&mut self, resource: &Resource) {
        let name = format!("{}.{}", resource.api.plural, resource.api.group);
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
        let client = self.client.clone();
        let answer = retrying(|| {
            let request = http::Request::get(path.clone()).body(Vec::new()).expect("a valid request");
            let client = client.clone();
            async move { client.request::<serde_json::Value>(request).await }
        })
        .await;
        let outcome = match answer {
            Ok(definition) => self.snapshot.upsert(definition).map_err(|e| e.to_string()),
            // No CRD: an aggregated API (metrics, an extension API server), judged as before.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(error) => Err(error.to_string()),
        };
        if let Err(why) = outcome {
            let message = format!(
                "cannot read the CustomResourceDefinition {name} ({why}); {} objects without status are judged as before, not held back until their controller reports",
                resource.api.kind
            );
            let _ = self.updates.send(Update::Note { message });
        }
    }

    /// Takes one feed message into the snapshot, noting the tracked objects it may affect.
    fn take(&mut self, message: FeedMessage, dirty: &mut BTreeSet<ObjectRef>) -> Result<(), Error> {
        let (feed, event) = match message {
            FeedMessage::Trouble { feed, message, fatal } if fatal && self.feeds[feed].optional => {
                // Denied a kind the verdicts can do without: go on without it, saying so once
                // (once for both feeds of Events in a namespace).
                let state = &mut self.feeds[feed];
                state.synced = true;
                state.relisting = None;
                let (resource, namespace) = (state.key.resource.clone(), state.key.namespace.clone());
                let noted = self.feeds.iter().any(|other| other.denied && other.key.resource == resource && other.key.namespace == namespace);
                self.feeds[feed].denied = true;
                self.set_stale(feed, None, dirty);
                if !noted {
                    // A note, not trouble: nothing is retried, and no verdict waits for it.
                    let message = format!("{message}; going on without them (verdicts and explanations lose what they would tell)");
                    let _ = self.updates.send(Update::Note { message });
                }
                return Ok(());
            }
            FeedMessage::Trouble { message, fatal: true, .. } => return Err(Error::access(message)),
            FeedMessage::Trouble { feed, message, fatal: false } => {
                self.set_stale(feed, Some(message.clone()), dirty);
                let _ = self.updates.send(Update::Trouble { feed: self.feeds[feed].key.to_string(), message });
                return Ok(());
            }
            FeedMessage::Event { feed, event } => (feed, event),
        };
        if matches!(event, Event::Apply(_) | Event::Delete(_) | Event::InitApply(_)) {
            self.events += 1;
        }
        match event {
            Event::Init => {
                self.feeds[feed].relisting = Some(HashSet::new());
                let why = self.feeds[feed].stale.clone().unwrap_or_else(|| format!("listing {} again", self.feeds[feed].key));
                self.set_stale(feed, Some(why), dirty);
            }
            Event::InitApply(object) => {
                if let Some(key) = self.upsert(feed, object, dirty)
                    && let Some(seen) = self.feeds[feed].relisting.as_mut()
                {
                    seen.insert(key);
                }
            }
            Event::InitDone => {
                let seen = self.feeds[feed].relisting.take().unwrap_or_default();
                let gone: Vec<Arc<ObjectRef>> = self.feeds[feed].known.difference(&seen).cloned().collect();
                for key in gone {
                    self.remove(&key, dirty);
                }
                self.feeds[feed].known = seen;
                self.feeds[feed].synced = true;
                self.set_stale(feed, None, dirty);
            }
            Event::Apply(object) => {
                self.upsert(feed, object, dirty);
            }
            Event::Delete(object) => {
                if let Some(key) = object.key() {
                    self.feeds[feed].known.remove(&key);
                    self.remove(&key, dirty);
                }
            }
        }
        Ok(())
    }

    /// Marks a feed stale (with why) or current; when that changes, the tracked objects that
    /// read it are judged again, so a final verdict is withheld or given.
    fn set_stale(&mut self, feed: usize, why: Option<String>, dirty: &mut BTreeSet<ObjectRef>) {
        let changed = self.feeds[feed].stale.is_some() != why.is_some();
        self.feeds[feed].stale = why;
        if changed {
            dirty.extend(self.tracked.iter().filter(|t| t.feeds.contains(&feed)).map(|t| ObjectRef::clone(&t.object)));
        }
    }

    fn upsert(&mut self, feed: usize, object: Incoming, dirty: &mut BTreeSet<ObjectRef>) -> Option<Arc<ObjectRef>> {
        let (key, mut decoded) = match object {
            Incoming::Decoded(decoded) => (decoded.key().clone(), *decoded),
            Incoming::Json(object) => {
                let key = ObjectRef::of_object(&object)?;
                match Decoded::from_value(object) {
                    Ok(decoded) => (key, decoded),
                    Err(error) => {
                        let message = format!("cannot read {key} from the cluster: {error}");
                        let _ = self.updates.send(Update::Trouble { feed: self.feeds[feed].key.to_string(), message });
                        return None;
                    }
                }
            }
        };
        // An Event's reason and message never change, so one no rule reads never needs keeping.
        if !decoded.read_by_rules() {
            return None;
        }
        if self.unstarted > 0 && Needed::OnceUnschedulable.met_by(&decoded) {
            self.start_needed(Needed::OnceUnschedulable, decoded.key().namespace.as_deref(), dirty);
        }
        let status_changed = self.status_changed(&key, &decoded);
        // A one-shot status sees each value once, so there is no observation to time from: like
        // offline `check`, it reads the server's timestamps (a workload ready for days is ready
        // now, not settling for the window again).
        let new_pod_times = if self.options.mode != FeedMode::Once
            && let Some(pod) = decoded.pod_mut()
        {
            self.first_seen.retime(&key, pod, self.rules_clock.now())
        } else {
            None
        };
        let clock =
            if key.row().is_some_and(|row| row.rollout.model.is_some()) { self.index.get(&key).map(|&slot| &mut self.tracked[slot].clock) } else { None };
        // The JSON form only for what reads JSON: the duration model of a tracked workload's new
        // generation, and the timeline's reading of pods and events.
        let (generation, observed) = decoded.generation_observed();
        if let Some(clock) = clock
            && let Some(estimate) = clock.observe(generation, observed, || decoded.to_value())
            && self.options.timeline
        {
            let waves = PlannedWaves { workload: key.clone(), estimate: estimate.clone(), at: jiff::Timestamp::now(), elapsed: self.started.elapsed() };
            let _ = self.updates.send(Update::Waves(Box::new(waves)));
        }
        let seen = if self.options.timeline && (key.is(&registry::POD) || key.is(&registry::EVENT)) { Seen::read(&key, &decoded.to_value()) } else { None };
        let shared = self.snapshot.insert(decoded);
        if let Some(times) = new_pod_times {
            self.first_seen.keep(Arc::clone(&shared), times);
        }
        if !self.feeds[feed].known.contains(&key) {
            self.feeds[feed].known.insert(Arc::clone(&shared));
        }
        if self.options.timeline {
            self.record(&key, seen);
        }
        self.mark_affected(&key, dirty);
        if status_changed {
            self.progressed(&key);
        }
        Some(shared)
    }

    /// Starts the feeds needed from `needed` on, of `namespace` and the cluster-scoped ones:
    /// stale until listed, so no verdict that reads them is final before then.
    fn start_needed(&mut self, needed: Needed, namespace: Option<&str>, dirty: &mut BTreeSet<ObjectRef>) {
        for index in 0..self.feeds.len() {
            let feed = &self.feeds[index];
            let in_reach = feed.key.namespace.is_none() || feed.key.namespace.as_deref() == namespace;
            if feed.started || feed.needed != needed || !in_reach {
                continue;
            }
            let feed = &mut self.feeds[index];
            feed.started = true;
            feed.synced = false;
            self.unstarted -= 1;
            self.to_start.push(index);
            self.set_stale(index, Some("not listed yet".into()), dirty);
        }
    }

    fn remove(&mut self, key: &ObjectRef, dirty: &mut BTreeSet<ObjectRef>) {
        self.mark_affected(key, dirty);
        if let Some(update) = self.recorder.deleted(key, self.started.elapsed()) {
            let _ = self.updates.send(update);
        }
        if self.statuses.remove(key).is_some() {
            self.progressed(key);
        }
        self.snapshot.remove(key);
        self.first_seen.forget(key);
        if let Some(&slot) = self.index.get(key) {
            self.tracked[slot].clock.forget();
        }
    }

    /// Whether `object`'s status differs from the last version seen (a new object's counts as
    /// changed), when the no-progress rule is on and changes are observed over time. Events
    /// repeat without anything progressing, so they never count.
    fn status_changed(&mut self, key: &ObjectRef, object: &Decoded) -> bool {
        if self.options.policy.no_progress_timeout.is_none() || self.options.mode == FeedMode::Once || key.kind == "Event" {
            return false;
        }
        let digest = object.status_digest();
        match self.statuses.get_mut(key) {
            Some(known) => std::mem::replace(known, digest) != digest,
            None => {
                self.statuses.insert(key.clone(), digest);
                true
            }
        }
    }

    /// The tracked objects whose family `key` belongs to have progressed now.
    fn progressed(&mut self, key: &ObjectRef) {
        let now = self.rules_clock.now();
        for workload in self.snapshot.workloads_affected_by(key) {
            if let Some(&slot) = self.index.get(&workload) {
                self.tracked[slot].progressed = Some(now);
            }
        }
    }

    /// Reports a pod's or warning event's change for a timeline, under the tracked object highest
    /// up its owners; an owner that arrives reports the pods and events that waited for it.
    fn record(&mut self, key: &ObjectRef, seen: Option<Seen>) {
        let chain = self.snapshot.workloads_affected_by(key);
        let owner = chain.iter().rfind(|w| self.index.contains_key(*w)).cloned();
        let updates = match seen {
            // The chain starts at what an event is about.
            Some(seen) => {
                let subject = chain.first().cloned().unwrap_or_else(|| key.clone());
                self.recorder.take(key, seen, owner, subject, self.started.elapsed()).into_iter().collect()
            }
            None => match owner {
                Some(owner) if self.recorder.has_pending() => {
                    let family: HashSet<ObjectRef> = self.snapshot.family(&owner).into_iter().collect();
                    self.recorder.claim(&owner, &family)
                }
                _ => Vec::new(),
            },
        };
        for update in updates {
            let _ = self.updates.send(update);
        }
    }

    fn mark_affected(&self, key: &ObjectRef, dirty: &mut BTreeSet<ObjectRef>) {
        dirty.extend(self.snapshot.workloads_affected_by(key).into_iter().filter(|w| self.index.contains_key(w)));
    }

    /// Recomputes the verdicts and rollout paces of `dirty` tracked objects and reports those
    /// whose verdict changed or that just fell behind the model (or caught up). The remaining time
    /// alone is not reported every second: the pace carries what a display needs to count down.
    /// Objects waiting for a relist are judged once it is complete; while a feed an object reads
    /// is stale, a final verdict is held back as unknown.
    fn evaluate(&mut self, dirty: &BTreeSet<ObjectRef>) {
        let now = self.rules_clock.now();
        let instant = Instant::now();
        let elapsed = instant.duration_since(self.started);
        for object in dirty {
            let Some(&slot) = self.index.get(object) else { continue };
            let reads = &self.tracked[slot].feeds;
            if reads.iter().any(|&feed| self.feeds[feed].relisting.is_some()) {
                self.deferred.insert(object.clone());
                continue;
            }
            // Watching, changes are seen as they happen; a one-shot status has only the timestamps.
            let mut verdict = match self.options.mode {
                FeedMode::Once => self.snapshot.verdict(object, &self.options.policy, now),
                _ => {
                    let progressed = *self.tracked[slot].progressed.get_or_insert(now);
                    self.snapshot.verdict_observed(object, &self.options.policy, now, progressed)
                }
            };
            self.evaluations.fetch_add(1, Ordering::Relaxed);
            let reads = &self.tracked[slot].feeds;
            if verdict.state.is_final()
                && let Some(why) = reads.iter().find_map(|&feed| self.feeds[feed].stale.as_deref())
            {
                let message = format!("{object}: no verdict until the cluster's answers are current again ({why})");
                verdict =
                    Verdict { state: State::Unknown, message, reasons: Vec::new(), progress: verdict.progress, settling: None, changes_at: verdict.changes_at };
            }
            let tracked = &mut self.tracked[slot];
            let pace = tracked.clock.pace(&verdict, elapsed);
            let slower = pace.is_some_and(|pace| pace.slower_than_expected());
            // The rules' clock runs no faster than the monotonic one (it only stands still), so
            // the instant its time comes is never later than this; at worst the object is judged
            // again early, and gets its next instant then.
            let verdict_due = verdict.changes_at.map(|at| at.duration_since(now).unsigned_abs());
            let pace_due = pace.and_then(|pace| pace.slower_from()?.checked_sub(pace.elapsed));
            let wake = verdict_due.into_iter().chain(pace_due).min().and_then(|after| instant.checked_add(after));
            if let Some(old) = tracked.wake.take() {
                self.wakes.remove(&(old, slot));
            }
            if let Some(wake) = wake {
                tracked.wake = Some(wake);
                self.wakes.insert((wake, slot));
            }
            verdict.changes_at = None;
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
            let change = VerdictChange { object: object.clone(), verdict, previous, at: jiff::Timestamp::now(), elapsed, pace };
            let _ = self.updates.send(Update::Verdict(Box::new(change)));
        }
    }

    /// Takes the tracked objects whose instant to be judged again has come out of `wakes`.
    fn take_due(&mut self, dirty: &mut BTreeSet<ObjectRef>) {
        let now = Instant::now();
        while let Some(&(at, slot)) = self.wakes.first()
            && at <= now
        {
            self.wakes.pop_first();
            self.tracked[slot].wake = None;
            dirty.insert(ObjectRef::clone(&self.tracked[slot].object));
        }
    }

    /// When the run's `--timeout` ends it (`None`: never, or too far to represent).
    fn deadline(&self) -> Option<Instant> {
        self.options.timeout.and_then(|timeout| self.started.checked_add(timeout))
    }

    /// Whether the run is over, and how.
    fn decide(&self) -> Option<End> {
        decide(self.options.goal, self.options.mode, self.options.fail_fast, self.tracked.iter().map(|t| t.verdict.state))
    }

    /// The outcome, with explanations for the objects that did not reach the goal.
    async fn finish(self, end: End) -> Outcome {
        tracing::debug!(
            events = self.events,
            evaluations = self.evaluations.load(Ordering::Relaxed),
            feeds = self.feeds.len(),
            tracked = self.tracked.len(),
            "tracking ended"
        );
        let logs_tail = match end {
            End::Interrupted | End::Error(_) => 0,
            _ => self.options.logs_tail,
        };
        // The explanations' fetches share the run's one timeout: after a timeout none is made.
        let deadline = self.deadline();
        let mut objects = Vec::new();
        for tracked in &self.tracked {
            let reached = match self.options.goal {
                Goal::Ready => tracked.verdict.state == State::Ready,
                Goal::Deleted => tracked.verdict.state == State::NotFound,
            };
            let explanation = if reached || !tracked.evaluated || self.options.goal == Goal::Deleted {
                None
            } else {
                Some(explain(&self.client, &self.snapshot, &tracked.object, &tracked.verdict, logs_tail, deadline).await)
            };
            objects.push(ObjectOutcome {
                object: ObjectRef::clone(&tracked.object),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::MapObjects;
    use serde_json::Value;
    use std::time::Duration;

    #[test]
    fn only_kinds_a_crd_may_serve_have_their_definition_read() {
        let resource = |group: &str| Resource {
            api: kube::discovery::ApiResource { group: group.into(), version: "v1".into(), api_version: String::new(), kind: "K".into(), plural: "ks".into() },
            namespaced: true,
        };
        for custom in ["argoproj.io", "gateway.networking.k8s.io", "cluster.x-k8s.io"] {
            assert!(is_custom(&resource(custom)), "{custom}");
        }
        for own in ["", "apps", "batch", "networking.k8s.io", "apiextensions.k8s.io"] {
            assert!(!is_custom(&resource(own)), "{own}");
        }
    }

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

    /// The engine fed with synthetic watch events on tokio's paused clock: time passes only when
    /// a test lets it, and the engine has taken in everything sent by then.
    mod scripted {
        use std::sync::Mutex;

        use futures::FutureExt;
        use futures::future::BoxFuture;
        use jiff::{SignedDuration, Timestamp};
        use rollwatch_verdict::Policy;
        use rollwatch_verdict::pod_state::PodState;
        use serde_json::json;

        use super::*;

        /// A feed as the engine started it: its key, its index and where its messages go.
        type StartedFeed = (FeedKey, usize, mpsc::UnboundedSender<FeedMessage>);

        /// Feeds whose messages the test sends.
        #[derive(Clone, Default)]
        struct ScriptedFeeds(Arc<Mutex<Vec<StartedFeed>>>);

        impl FeedSource for ScriptedFeeds {
            fn run(&self, key: FeedKey, index: usize, _mode: FeedMode, sender: mpsc::UnboundedSender<FeedMessage>) -> BoxFuture<'static, ()> {
                self.0.lock().unwrap().push((key, index, sender));
                futures::future::ready(()).boxed()
            }
        }

        struct Run {
            feeds: ScriptedFeeds,
            updates: mpsc::UnboundedReceiver<Update>,
            /// Every verdict reported, in order.
            verdicts: Vec<(ObjectRef, Verdict)>,
            /// Every other update reported, in order.
            others: Vec<Update>,
            /// Verdicts the engine computed, reported or not.
            evaluations: Arc<AtomicU64>,
            interrupt: Option<oneshot::Sender<()>>,
            outcome: tokio::task::JoinHandle<Outcome>,
        }

        impl Run {
            async fn start(objects: &[&ObjectRef], policy: Policy) -> Self {
                Self::start_in(objects, policy, FeedMode::Watch).await
            }

            async fn start_in(objects: &[&ObjectRef], policy: Policy, mode: FeedMode) -> Self {
                let options = TrackOptions { policy, timeout: None, logs_tail: 0, mode, ..TrackOptions::default() };
                // Nothing listens there: the engine reads only the scripted feeds.
                Self::start_with(objects, options, "127.0.0.1:9", Vec::new()).await
            }

            /// Started with `options`, its explanations fetching from the API server at `server`,
            /// and `custom` kinds as the server's discovery would answer.
            async fn start_with(objects: &[&ObjectRef], options: TrackOptions, server: &str, custom: Vec<Resource>) -> Self {
                let client = kube::Client::try_from(kube::Config::new(format!("http://{server}").parse().unwrap())).unwrap();
                let feeds = ScriptedFeeds::default();
                let (sender, updates) = mpsc::unbounded_channel();
                let resolver = Resolver::new(client.clone());
                for resource in custom {
                    resolver.discovered(&resource.api.group.clone(), vec![resource]).await;
                }
                let engine = Engine::new(client, resolver, options, Arc::new(feeds.clone()), sender);
                let evaluations = engine.evaluations();
                let (interrupt, interrupted) = oneshot::channel();
                let objects = objects.iter().map(|&o| o.clone()).collect();
                let outcome = tokio::spawn(engine.run(objects, interrupted));
                let mut run = Run { feeds, updates, verdicts: Vec::new(), others: Vec::new(), evaluations, interrupt: Some(interrupt), outcome };
                run.pass(Duration::ZERO).await;
                run
            }

            /// Sends to every feed of `kind` started (Events come in up to three: warnings, kubelet's
            /// Killing ones, the autoscaler's).
            fn send(&self, kind: &str, message: impl Fn(usize) -> FeedMessage) {
                let group = rollwatch_verdict::registry::by_kind(kind).map_or("", |row| row.group);
                self.send_in(group, kind, message);
            }

            fn send_in(&self, group: &str, kind: &str, message: impl Fn(usize) -> FeedMessage) {
                let feeds = self.feeds.0.lock().unwrap();
                let mut of_kind = feeds.iter().filter(|(key, ..)| key.resource.api.group == group && key.resource.api.kind == kind).peekable();
                assert!(of_kind.peek().is_some(), "a feed of kind {kind}");
                for (_, index, sender) in of_kind {
                    sender.send(message(*index)).unwrap();
                }
            }

            /// A complete list of the feed of `kind` in `group`.
            fn list_in(&self, group: &str, kind: &str, objects: &[Value]) {
                self.send_in(group, kind, |feed| FeedMessage::Event { feed, event: Event::Init });
                for object in objects {
                    self.send_in(group, kind, |feed| FeedMessage::Event { feed, event: Event::InitApply(Incoming::Json(object.clone())) });
                }
                self.send_in(group, kind, |feed| FeedMessage::Event { feed, event: Event::InitDone });
            }

            fn event(&self, kind: &str, event: Event<Value>) {
                self.send(kind, |feed| FeedMessage::Event { feed, event: event.clone().map_objects(Incoming::Json) });
            }

            /// A complete list of the feed's objects.
            fn list(&self, kind: &str, objects: &[Value]) {
                self.event(kind, Event::Init);
                for object in objects {
                    self.event(kind, Event::InitApply(object.clone()));
                }
                self.event(kind, Event::InitDone);
            }

            /// The feed's connection broke; it retries.
            fn trouble(&self, kind: &str) {
                self.send(kind, |feed| FeedMessage::Trouble { feed, message: "watching: connection refused".into(), fatal: false });
            }

            /// Lets `time` pass and collects the verdicts reported meanwhile.
            async fn pass(&mut self, time: Duration) {
                tokio::time::sleep(time).await;
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                }
                while let Ok(update) = self.updates.try_recv() {
                    match update {
                        Update::Verdict(change) => self.verdicts.push((change.object, change.verdict)),
                        other => self.others.push(other),
                    }
                }
            }

            fn state(&self, object: &ObjectRef) -> State {
                self.verdicts.iter().rev().find(|(o, _)| o == object).map_or(State::Unknown, |(_, v)| v.state)
            }

            fn evaluations(&self) -> u64 {
                self.evaluations.load(Ordering::Relaxed)
            }

            fn ever(&self, object: &ObjectRef, state: State) -> bool {
                self.verdicts.iter().any(|(o, v)| o == object && v.state == state)
            }

            async fn outcome(mut self) -> Outcome {
                if let Some(interrupt) = self.interrupt.take() {
                    let _ = interrupt.send(());
                }
                self.outcome.await.unwrap()
            }
        }

        fn pod_ref(name: &str) -> ObjectRef {
            ObjectRef::new("Pod", Some("shop".into()), name)
        }

        /// A pod of one container `app`, with `status` as kubelet writes it.
        fn pod(name: &str, status: Value) -> Value {
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"), "creationTimestamp": status["startTime"]},
                "spec": {"containers": [{"name": "app", "image": "shop/app:1"}]},
                "status": status,
            })
        }

        /// Started at `started`, its image pull failing (kubelet retries it).
        fn pulling(name: &str, started: Timestamp) -> Value {
            pod(
                name,
                json!({
                    "phase": "Pending", "startTime": started.to_string(),
                    "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False", "lastTransitionTime": started.to_string()}],
                    "containerStatuses": [{"name": "app", "image": "shop/app:1", "imageID": "", "ready": false, "restartCount": 0,
                                           "state": {"waiting": {"reason": "ErrImagePull", "message": "rpc error: not found"}}}],
                }),
            )
        }

        /// Running and Ready since `since`, after `restarts` restarts (the last one ending then).
        fn ready(name: &str, since: Timestamp, restarts: i32) -> Value {
            let last_state = if restarts > 0 { json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": since.to_string()}}) } else { json!({}) };
            pod(
                name,
                json!({
                    "phase": "Running", "startTime": since.to_string(),
                    "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True", "lastTransitionTime": since.to_string()}],
                    "containerStatuses": [{"name": "app", "image": "shop/app:1", "imageID": "x", "ready": true, "restartCount": restarts,
                                           "state": {"running": {"startedAt": since.to_string()}}, "lastState": last_state}],
                }),
            )
        }

        /// In CrashLoopBackOff after `restarts` crashes (exit code 1), started at `started`.
        fn crash_looping(name: &str, started: Timestamp, restarts: i32) -> Value {
            pod(
                name,
                json!({
                    "phase": "Running", "startTime": started.to_string(),
                    "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False", "lastTransitionTime": started.to_string()}],
                    "containerStatuses": [{"name": "app", "image": "shop/app:1", "imageID": "x", "ready": false, "restartCount": restarts,
                                           "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
                                           "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": started.to_string(), "finishedAt": started.to_string()}}}],
                }),
            )
        }

        /// kubectl's instant verdict, for tests about something other than the settle window.
        fn instant() -> Policy {
            Policy { stable_for: Duration::ZERO, ..Policy::default() }
        }

        fn with_grace(waiting_grace: Duration) -> Policy {
            Policy { waiting_grace, ..Policy::default() }
        }

        #[tokio::test(start_paused = true)]
        async fn a_one_shot_status_reads_the_servers_timestamps_and_a_wait_times_from_first_sight() {
            let web = pod_ref("web-1");
            let a_day_ago = Timestamp::now() - SignedDuration::from_hours(24);

            // One snapshot, nothing observed over time: ready for a day is ready, not settling.
            let mut status = Run::start_in(&[&web], Policy::default(), FeedMode::Once).await;
            status.list("Event", &[]);
            status.list("Pod", &[ready("web-1", a_day_ago, 0)]);
            status.pass(Duration::ZERO).await;
            assert_eq!(status.state(&web), State::Ready, "{:?}", status.verdicts);

            // Watching, the same pod settles from when rollwatch first saw it (a runner clock may be off).
            let mut wait = Run::start(&[&web], Policy::default()).await;
            wait.list("Event", &[]);
            wait.list("Pod", &[ready("web-1", a_day_ago, 0)]);
            wait.pass(Duration::from_secs(1)).await;
            assert_eq!(wait.state(&web), State::Progressing, "{:?}", wait.verdicts);
            wait.pass(Duration::from_secs(10)).await;
            assert_eq!(wait.state(&web), State::Ready, "{:?}", wait.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn a_stale_feed_gives_no_final_verdict_and_stops_the_grace_period() {
            let web = pod_ref("web-1");
            let mut run = Run::start(&[&web], with_grace(Duration::from_secs(30))).await;
            let started = Timestamp::now();
            run.list("Event", &[]);
            run.list("Pod", &[pulling("web-1", started)]);
            run.pass(Duration::from_secs(10)).await;
            assert_eq!(run.state(&web), State::Progressing, "within the grace period: {:?}", run.verdicts);

            // The watch breaks for two minutes, four times the grace period.
            run.trouble("Pod");
            run.pass(Duration::from_secs(120)).await;
            assert!(!run.ever(&web, State::Failed), "failed on data nobody updated: {:?}", run.verdicts);

            // Back, and the pull still fails: the 10 s before the outage count, the outage does not.
            run.list("Pod", &[pulling("web-1", started)]);
            run.pass(Duration::from_secs(15)).await;
            assert_eq!(run.state(&web), State::Progressing, "{:?}", run.verdicts);
            run.pass(Duration::from_secs(10)).await;
            assert_eq!(run.state(&web), State::Failed, "{:?}", run.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn a_grace_period_runs_out_at_its_instant_with_no_event_and_no_judgement_before() {
            let web = pod_ref("web-1");
            let grace = Duration::from_secs(120);
            let mut run = Run::start(&[&web], with_grace(grace)).await;
            run.list("Event", &[]);
            run.list("Pod", &[pulling("web-1", Timestamp::now())]);
            run.pass(Duration::from_secs(20)).await;
            assert_eq!(run.state(&web), State::Progressing, "{:?}", run.verdicts);
            let judged = run.evaluations();

            run.pass(grace - Duration::from_secs(20) - Duration::from_millis(1)).await;
            assert_eq!(run.state(&web), State::Progressing, "{:?}", run.verdicts);
            assert_eq!(run.evaluations(), judged, "judged again with nothing changed and nothing due");
            run.pass(Duration::from_millis(1)).await;
            assert_eq!(run.state(&web), State::Failed, "at the end of the grace period: {:?}", run.verdicts);
            assert_eq!(run.evaluations(), judged + 1, "one judgement, when due");
        }

        #[tokio::test(start_paused = true)]
        async fn a_ready_verdict_is_held_back_while_the_feed_is_stale() {
            let web = pod_ref("web-1");
            let mut run = Run::start(&[&web], instant()).await;
            run.list("Event", &[]);
            run.list("Pod", &[pulling("web-1", Timestamp::now())]);
            run.pass(Duration::from_secs(1)).await;
            run.trouble("Event");
            // A change on the current Pod feed cannot make it ready while the Event feed is stale.
            run.event("Pod", Event::Apply(ready("web-1", Timestamp::now(), 0)));
            run.pass(Duration::from_secs(5)).await;
            assert_eq!(run.state(&web), State::Unknown, "{:?}", run.verdicts);
            assert!(run.verdicts.last().unwrap().1.message.contains("no verdict until"), "{:?}", run.verdicts);
            run.list("Event", &[]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!(run.state(&web), State::Ready, "{:?}", run.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn a_pod_that_crashed_during_an_outage_is_not_reported_ready() {
            let web = pod_ref("web-1");
            let policy = Policy { stable_for: Duration::from_secs(10), ..Policy::default() };
            let mut run = Run::start(&[&web], policy).await;
            // The server's clock, as it runs on through the test (the wall clock stands still on
            // tokio's paused clock).
            let server = Timestamp::now();
            run.list("Event", &[]);
            run.list("Pod", &[ready("web-1", server, 0)]);
            run.pass(Duration::from_secs(3)).await;
            assert_eq!(run.state(&web), State::Progressing, "within the stable window: {:?}", run.verdicts);

            // During a 30 s outage the container crashes and is ready again: nobody is told.
            run.trouble("Pod");
            run.pass(Duration::from_secs(30)).await;
            assert!(!run.ever(&web, State::Ready), "ready from data nobody updated: {:?}", run.verdicts);

            // The relist shows the restart, ready again 5 s before the relist on the server's
            // clock: the stable window starts over from the relist, as rollwatch's clock stood
            // still during the outage.
            run.list("Pod", &[ready("web-1", server + SignedDuration::from_secs(28), 1)]);
            run.pass(Duration::from_secs(8)).await;
            assert_eq!(run.state(&web), State::Progressing, "{:?}", run.verdicts);
            run.pass(Duration::from_secs(3)).await;
            assert_eq!(run.state(&web), State::Ready, "{:?}", run.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn of_kubelets_killing_events_only_those_announcing_a_restart_are_kept_and_judged() {
            let web = pod_ref("web-1");
            let policy = Policy { stable_for: Duration::from_secs(10), ..Policy::default() };
            let mut run = Run::start(&[&web], policy).await;
            run.list("Event", &[]);
            run.list("Pod", &[ready("web-1", Timestamp::now(), 0)]);
            run.pass(Duration::from_secs(1)).await;
            let killing = |name: &str, message: &str| {
                json!({
                    "apiVersion": "v1", "kind": "Event", "type": "Normal", "reason": "Killing", "message": message, "count": 1,
                    "metadata": {"name": name, "namespace": "shop", "uid": name},
                    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "uid-web-1", "fieldPath": "spec.containers{app}"},
                })
            };
            // A container stopped for good (one per pod a rollout deletes): no rule reads it, so
            // it is neither kept nor a cause to judge the pod again.
            let judged = run.evaluations();
            run.event("Event", Event::Apply(killing("web-1.1", "Stopping container app")));
            run.pass(Duration::from_secs(1)).await;
            assert_eq!(run.evaluations(), judged, "{:?}", run.verdicts);
            // A restart announced: the pod, Ready by its lagging status, is not up.
            run.event("Event", Event::Apply(killing("web-1.2", "Container app failed liveness probe, will be restarted")));
            run.pass(Duration::from_secs(1)).await;
            assert!(run.evaluations() > judged);
            let (_, verdict) = run.verdicts.iter().rev().find(|(o, _)| *o == web).unwrap();
            assert!(verdict.reasons.iter().any(|r| r.message.contains("failed liveness probe, will be restarted")), "{verdict:?}");
            run.pass(Duration::from_secs(20)).await;
            assert!(!run.ever(&web, State::Ready), "{:?}", run.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn a_relist_is_judged_whole_with_its_deletions() {
            let (gone, changed) = (pod_ref("web-1"), pod_ref("web-2"));
            let mut run = Run::start(&[&gone, &changed], instant()).await;
            run.list("Event", &[]);
            run.list("Pod", &[ready("web-1", Timestamp::now(), 0), pulling("web-2", Timestamp::now())]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!((run.state(&gone), run.state(&changed)), (State::Ready, State::Progressing));

            // After a 410, the relist's first page has web-2 ready; web-1 is no longer there.
            let judged = run.verdicts.len();
            run.event("Pod", Event::Init);
            run.event("Pod", Event::InitApply(ready("web-2", Timestamp::now(), 0)));
            run.pass(Duration::from_secs(2)).await;
            assert_eq!(run.verdicts.len(), judged, "judged from half a relist: {:?}", &run.verdicts[judged..]);
            run.event("Pod", Event::InitDone);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!((run.state(&gone), run.state(&changed)), (State::NotFound, State::Ready), "{:?}", run.verdicts);
            assert!(matches!(run.outcome().await.end, End::Failed), "a tracked pod is gone");
        }

        #[tokio::test(start_paused = true)]
        async fn denied_events_are_done_without_and_denied_pods_end_the_run() {
            let web = pod_ref("web-1");
            let run = Run::start(&[&web], Policy::default()).await;
            run.send("Event", |feed| FeedMessage::Trouble { feed, message: "listing events: forbidden".into(), fatal: true });
            run.list("Pod", &[ready("web-1", Timestamp::now(), 0)]);
            let outcome = run.outcome.await.unwrap();
            assert!(matches!(outcome.end, End::Ready), "{:?}", outcome.end);

            let run = Run::start(&[&web], Policy::default()).await;
            run.list("Event", &[]);
            run.send("Pod", |feed| FeedMessage::Trouble { feed, message: "listing pods: forbidden".into(), fatal: true });
            let outcome = run.outcome.await.unwrap();
            assert!(matches!(outcome.end, End::Error(_)), "{:?}", outcome.end);
        }

        fn feeds_started(run: &Run) -> Vec<String> {
            let mut feeds: Vec<String> = run.feeds.0.lock().unwrap().iter().map(|(key, ..)| key.to_string()).collect();
            feeds.sort();
            feeds
        }

        #[tokio::test(start_paused = true)]
        async fn the_nodes_and_the_autoscalers_events_are_read_from_the_first_unschedulable_pod_on_and_no_verdict_before() {
            let (web, big) = (pod_ref("web-1"), ObjectRef::new("Pod", Some("books".into()), "big-1"));
            let mut run = Run::start(&[&web, &big], instant()).await;
            let at_start = feeds_started(&run);
            assert!(!at_start.iter().any(|feed| feed == "nodes" || feed.contains("cluster-autoscaler")), "{at_start:?}");
            let big_pod = |status: Value| {
                let mut big = pod("big-1", status);
                big["metadata"]["namespace"] = json!("books");
                big["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "64"}});
                big
            };
            run.list("Event", &[]);
            // (Both Pod feeds, of shop and of books, are sent both pods.)
            run.list("Pod", &[ready("web-1", Timestamp::now(), 0), big_pod(json!({"phase": "Pending"}))]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!((run.state(&web), run.state(&big)), (State::Ready, State::Progressing), "{:?}", run.verdicts);
            assert_eq!(feeds_started(&run), at_start, "a schedulable pod starts nothing");

            // A pod of books no node takes: the Nodes, and the autoscaler's Events of books alone.
            let unschedulable = big_pod(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient cpu.", "lastTransitionTime": Timestamp::now().to_string()}]}));
            let judged = run.verdicts.len();
            run.event("Pod", Event::Apply(unschedulable));
            run.pass(Duration::from_secs(5)).await;
            let started: Vec<String> = feeds_started(&run).into_iter().filter(|feed| !at_start.contains(feed)).collect();
            assert_eq!(started, ["events in namespace books (source=cluster-autoscaler)", "nodes"]);
            assert_eq!(run.verdicts.len(), judged, "no verdict before the Nodes are listed: {:?}", run.verdicts);

            let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}});
            run.list(registry::NODE.kind, &[node]);
            run.list("Event", &[]);
            run.pass(Duration::from_secs(1)).await;
            let (_, verdict) = run.verdicts.iter().rfind(|(object, _)| *object == big).expect("a verdict once listed");
            assert_eq!(verdict.state, State::Failed, "{verdict:?}");
            assert!(verdict.message.contains("more than any node has"), "too large for the one node, at once: {verdict:?}");
            let notes = run.others.iter().filter(|update| matches!(update, Update::Note { message } if message.contains("cluster autoscaler"))).count();
            assert_eq!(notes, 1, "the autoscaler's status asked once, when it mattered (nothing answers here): {:?}", run.others);
        }

        /// Scheduled, its container still being created: nothing in the status moves by itself.
        fn creating(name: &str, started: Timestamp, waiting: &str) -> Value {
            pod(
                name,
                json!({
                    "phase": "Pending", "startTime": started.to_string(),
                    "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False", "lastTransitionTime": started.to_string()}],
                    "containerStatuses": [{"name": "app", "image": "shop/app:1", "imageID": "", "ready": false, "restartCount": 0,
                                           "state": {"waiting": {"reason": waiting}}}],
                }),
            )
        }

        #[tokio::test(start_paused = true)]
        async fn no_progress_counts_from_the_last_status_change_seen_and_stands_still_while_stale() {
            let web = pod_ref("web-1");
            let policy = Policy { no_progress_timeout: Some(Duration::from_secs(60)), ..Policy::default() };
            let mut run = Run::start(&[&web], policy).await;
            // Its server timestamps are an hour old: what counts is what rollwatch sees change.
            let started = Timestamp::now() - SignedDuration::from_hours(1);
            run.list("Event", &[]);
            run.list("Pod", &[creating("web-1", started, "ContainerCreating")]);
            run.pass(Duration::from_secs(30)).await;
            assert_eq!(run.state(&web), State::Progressing, "{:?}", run.verdicts);

            // The status changes at 30 s; the same status sent again at 60 s is no change.
            run.event("Pod", Event::Apply(creating("web-1", started, "PodInitializing")));
            run.pass(Duration::from_secs(30)).await;
            run.event("Pod", Event::Apply(creating("web-1", started, "PodInitializing")));
            run.pass(Duration::from_secs(15)).await;
            assert_eq!(run.state(&web), State::Progressing, "45 s after the change: {:?}", run.verdicts);

            // A two-minute outage does not count; the relist shows the same status.
            run.trouble("Pod");
            run.pass(Duration::from_secs(120)).await;
            assert!(!run.ever(&web, State::Failed), "failed during an outage: {:?}", run.verdicts);
            run.list("Pod", &[creating("web-1", started, "PodInitializing")]);
            run.pass(Duration::from_secs(10)).await;
            assert_eq!(run.state(&web), State::Progressing, "55 s of observed time: {:?}", run.verdicts);
            run.pass(Duration::from_secs(6)).await;
            assert_eq!(run.state(&web), State::Failed, "{:?}", run.verdicts);
            let (_, failed) = run.verdicts.last().unwrap();
            assert_eq!(failed.reasons[0].code, "NoProgress");
            assert_eq!(failed.reasons[0].message, "no progress for 1m: pod web-1 Pending: PodInitializing");
        }

        #[tokio::test(start_paused = true)]
        async fn a_custom_kind_named_like_a_builtin_one_is_another_object_judged_by_its_own_rules() {
            let apps = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
            let custom = ObjectRef::in_group("example.com", "Deployment", Some("shop".into()), "web");
            let served = Resource {
                api: kube::discovery::ApiResource {
                    group: "example.com".into(),
                    version: "v1".into(),
                    api_version: "example.com/v1".into(),
                    kind: "Deployment".into(),
                    plural: "deployments".into(),
                },
                namespaced: true,
            };
            let options = TrackOptions { policy: instant(), timeout: None, logs_tail: 0, mode: FeedMode::Watch, ..TrackOptions::default() };
            let mut run = Run::start_with(&[&apps, &custom], options, "127.0.0.1:9", vec![served]).await;
            let metadata = |uid: &str| json!({"name": "web", "namespace": "shop", "uid": uid, "generation": 1});
            let rolled_out = json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata("d1"),
                "spec": {"replicas": 1},
                "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
            });
            let stalled = json!({
                "apiVersion": "example.com/v1", "kind": "Deployment", "metadata": metadata("c1"),
                "status": {"conditions": [{"type": "Stalled", "status": "True", "reason": "NoCapacity", "message": "no region has room"}]},
            });
            for kind in ["ReplicaSet", "Pod", "Event"] {
                run.list(kind, &[]);
            }
            run.list_in("apps", "Deployment", &[rolled_out]);
            run.list_in("example.com", "Deployment", &[stalled]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!((run.state(&apps), run.state(&custom)), (State::Ready, State::Failed), "{:?}", run.verdicts);
            let outcome = run.outcome().await;
            assert_eq!(outcome.objects.len(), 2, "both tracked: {:?}", outcome.objects.iter().map(|o| &o.object).collect::<Vec<_>>());
        }

        #[tokio::test(start_paused = true)]
        async fn the_explanation_of_a_failure_ends_by_the_timeout_and_says_what_it_could_not_fetch() {
            // An API server that takes connections and never answers (the kernel accepts them).
            let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let web = pod_ref("web-1");
            let timeout = Duration::from_secs(15);
            let options = TrackOptions { policy: instant(), timeout: Some(timeout), logs_tail: 20, ..TrackOptions::default() };
            let mut run = Run::start_with(&[&web], options, &silent.local_addr().unwrap().to_string(), Vec::new()).await;
            run.list("Event", &[]);
            run.list("Pod", &[crash_looping("web-1", Timestamp::now(), 3)]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!(run.state(&web), State::Failed, "{:?}", run.verdicts);

            // The pod's state and its logs are asked for; no answer comes.
            let outcome = run.outcome.await.unwrap();
            assert!(matches!(outcome.end, End::Failed), "{:?}", outcome.end);
            assert!(outcome.elapsed <= timeout, "the explanation went on past the timeout: {:?}", outcome.elapsed);
            let explanation = outcome.objects[0].explanation.as_ref().expect("a failure is explained");
            let detail = &explanation.details[0];
            assert_eq!(detail.container_unavailable.as_deref(), Some("no answer within 10s"), "{detail:?}");
            let logs = detail.logs.as_ref().expect("logs were asked for");
            assert_eq!(logs.unavailable.as_deref(), Some("not fetched: the timeout passed"), "{logs:?}");
        }

        #[tokio::test(start_paused = true)]
        async fn an_object_without_a_status_is_read_by_name_alone_and_ready_once_it_exists() {
            let secret = ObjectRef::new("Secret", Some("shop".into()), "db-password");
            let web = pod_ref("web-1");
            let mut run = Run::start(&[&secret, &web], instant()).await;
            let mut feeds: Vec<String> = run.feeds.0.lock().unwrap().iter().map(|(key, ..)| key.to_string()).collect();
            feeds.sort();
            assert_eq!(
                feeds,
                [
                    "events in namespace shop (reason=Killing)",
                    "events in namespace shop (type=Warning)",
                    "pods in namespace shop",
                    "secrets/db-password in namespace shop"
                ],
                "no list or watch of secrets"
            );
            run.list("Event", &[]);
            run.list("Pod", &[ready("web-1", Timestamp::now(), 0)]);
            run.list("Secret", &[json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-password", "namespace": "shop"}})]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!((run.state(&secret), run.state(&web)), (State::Ready, State::Ready), "{:?}", run.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn a_timeline_run_reports_the_waves_then_each_pods_states_and_warnings_under_its_deployment() {
            let web = ObjectRef::in_group("apps", "Deployment", Some("shop".into()), "web");
            let options = TrackOptions { policy: instant(), timeout: None, logs_tail: 0, timeline: true, ..TrackOptions::default() };
            let mut run = Run::start_with(&[&web], options, "127.0.0.1:9", Vec::new()).await;
            let deployment = json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "uid": "d1", "generation": 2},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "shop/app:2"}]}}},
                "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1},
            });
            let owner = |kind: &str, name: &str, uid: &str| json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": true}]);
            let replica_set = json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "web-abc", "namespace": "shop", "uid": "rs1", "labels": {"pod-template-hash": "abc"}, "ownerReferences": owner("Deployment", "web", "d1")},
                "spec": {"replicas": 2}, "status": {"replicas": 1},
            });
            let owned = |mut pod: Value| {
                pod["metadata"]["ownerReferences"] = owner("ReplicaSet", "web-abc", "rs1");
                pod["metadata"]["labels"] = json!({"app": "web", "pod-template-hash": "abc"});
                pod
            };
            let now = Timestamp::now();
            run.list("ReplicaSet", &[replica_set]);
            run.list("Event", &[]);
            run.list("Pod", &[owned(pulling("web-abc-1", now))]);
            run.list_in("apps", "Deployment", &[deployment]);
            run.pass(Duration::from_secs(1)).await;
            run.event("Pod", Event::Apply(owned(crash_looping("web-abc-1", now, 2))));
            let backoff = json!({
                "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container", "count": 3,
                "metadata": {"name": "web-abc-1.1", "namespace": "shop", "uid": "e1"},
                "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-abc-1", "uid": "uid-web-abc-1"},
            });
            // Sent to both Event feeds, as the same event can come in two (the warnings' and the autoscaler's).
            run.event("Event", Event::Apply(backoff));
            run.event("Pod", Event::Delete(owned(crash_looping("web-abc-1", now, 2))));
            run.pass(Duration::from_secs(1)).await;

            let waves: Vec<_> = run.others.iter().filter_map(|u| if let Update::Waves(w) = u { Some(w) } else { None }).collect();
            assert_eq!(waves.len(), 1, "{:?}", run.others);
            assert_eq!((&waves[0].workload, waves[0].estimate.pods_to_update), (&web, 2));
            let pods: Vec<_> = run.others.iter().filter_map(|u| if let Update::Pod(p) = u { Some(p) } else { None }).collect();
            let states: Vec<_> = pods.iter().map(|p| (p.state, p.restarts)).collect();
            assert_eq!(states, [(PodState::Pulling, 0), (PodState::CrashLooping, 2), (PodState::Deleted, 2)]);
            assert!(pods.iter().all(|p| p.workload == web && p.revision.as_deref() == Some("abc") && p.pod.name == "web-abc-1"), "{pods:?}");
            assert_eq!(pods[1].last_exit.as_deref(), Some("container app: Error, exit code 1"));
            let warnings: Vec<_> = run.others.iter().filter_map(|u| if let Update::Warning(w) = u { Some(w) } else { None }).collect();
            assert_eq!(warnings.len(), 1, "once, though it came twice: {warnings:?}");
            assert_eq!((warnings[0].object.name.as_str(), warnings[0].reason.as_str(), &warnings[0].workload), ("web-abc-1", "BackOff", &web));
        }

        #[tokio::test(start_paused = true)]
        async fn without_the_timeline_option_no_pod_or_warning_is_reported() {
            let web = pod_ref("web-1");
            let mut run = Run::start(&[&web], instant()).await;
            run.list("Event", &[]);
            run.list("Pod", &[pulling("web-1", Timestamp::now())]);
            run.pass(Duration::from_secs(1)).await;
            assert!(!run.others.iter().any(|u| matches!(u, Update::Pod(_) | Update::Warning(_) | Update::Waves(_))), "{:?}", run.others);
        }

        #[tokio::test(start_paused = true)]
        async fn across_all_namespaces_each_kind_is_read_once_for_the_whole_cluster() {
            let secret = ObjectRef::new("Secret", Some("shop".into()), "db-password");
            let (web, api) = (pod_ref("web-1"), ObjectRef::new("Pod", Some("books".into()), "api-1"));
            let options = TrackOptions { policy: instant(), timeout: None, logs_tail: 0, all_namespaces: true, ..TrackOptions::default() };
            let mut run = Run::start_with(&[&secret, &web, &api], options, "127.0.0.1:9", Vec::new()).await;
            let mut feeds: Vec<String> = run.feeds.0.lock().unwrap().iter().map(|(key, ..)| key.to_string()).collect();
            feeds.sort();
            assert_eq!(
                feeds,
                ["events (reason=Killing)", "events (type=Warning)", "pods", "secrets/db-password in namespace shop"],
                "one feed per kind; an object read by name still in its namespace"
            );
            let mut api_pod = ready("api-1", Timestamp::now(), 0);
            api_pod["metadata"]["namespace"] = json!("books");
            run.list("Event", &[]);
            run.list("Pod", &[ready("web-1", Timestamp::now(), 0), api_pod]);
            run.list("Secret", &[json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-password", "namespace": "shop"}})]);
            run.pass(Duration::from_secs(1)).await;
            assert_eq!([run.state(&secret), run.state(&web), run.state(&api)], [State::Ready; 3], "{:?}", run.verdicts);
        }

        #[tokio::test(start_paused = true)]
        async fn the_runner_clock_a_minute_off_from_the_servers_changes_no_verdict() {
            let mut timelines = Vec::new();
            for skew in [-60, 0, 60] {
                let web = pod_ref("web-1");
                let mut run = Run::start(&[&web], with_grace(Duration::from_secs(30))).await;
                run.list("Event", &[]);
                // The server's clock is `skew` seconds ahead of the runner's.
                run.list("Pod", &[pulling("web-1", Timestamp::now() + SignedDuration::from_secs(skew))]);
                let mut timeline = Vec::new();
                for seconds in [10, 10, 15, 10] {
                    run.pass(Duration::from_secs(seconds)).await;
                    timeline.push(run.state(&web));
                }
                timelines.push(timeline);
            }
            let expected = [State::Progressing, State::Progressing, State::Failed, State::Failed];
            assert!(timelines.iter().all(|t| t == &expected), "runner 60 s fast, exact, 60 s slow: {timelines:?}");
        }
    }
}
