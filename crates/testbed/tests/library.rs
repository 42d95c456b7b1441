//! The tracker as a library, as a platform would embed it: a stream of verdict changes, then
//! an outcome that explains what failed.

use futures::StreamExt;
use rollwatch_testbed::{TestNamespace, kubeconfig};
use rollwatch_tracker::{ClusterOptions, End, Goal, TrackOptions, Tracker, Update};
use rollwatch_verdict::{ObjectRef, State};

fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: {name}}}}}\n  \
         template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: app, image: {image}}}]\n"
    )
}

fn tracker(runtime: &tokio::runtime::Runtime) -> Tracker {
    let options = ClusterOptions { kubeconfig: Some(kubeconfig()), context: None };
    runtime.block_on(Tracker::connect(&options)).expect("the test cluster answers")
}

#[test]
fn the_stream_shows_a_rollout_progress_to_ready_then_ends_with_the_outcome() {
    let ns = TestNamespace::new("lib-ready");
    ns.apply(&deployment("web", "nginx:1.19")).ok();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tracker = tracker(&runtime);
    let web = ObjectRef::new("Deployment", Some(ns.name.clone()), "web");
    let options = TrackOptions { timeout: Some(std::time::Duration::from_secs(120)), ..TrackOptions::default() };
    let (states, outcome) = runtime.block_on(async {
        let mut tracking = tracker.track(vec![web.clone()], options);
        let mut states = Vec::new();
        while let Some(update) = tracking.next().await {
            if let Update::Verdict(change) = update {
                assert_eq!(change.object, web);
                states.push(change.verdict.state);
            }
        }
        (states, tracking.outcome().await)
    });
    assert!(matches!(outcome.end, End::Ready), "{outcome:?}");
    assert_eq!(states.last(), Some(&State::Ready), "{states:?}");
    assert_eq!(outcome.objects.len(), 1);
    assert!(outcome.objects[0].reached && outcome.objects[0].explanation.is_none());
}

#[test]
fn a_failure_comes_with_an_explanation_and_interrupting_ends_a_run_at_once() {
    let ns = TestNamespace::new("lib-fail");
    ns.apply(&deployment("broken", "nginx:does-not-exist")).ok();
    ns.apply(&deployment("fine", "nginx:1.19")).ok();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tracker = tracker(&runtime);
    let broken = ObjectRef::new("Deployment", Some(ns.name.clone()), "broken");
    let mut options = TrackOptions { timeout: Some(std::time::Duration::from_secs(180)), ..TrackOptions::default() };
    options.policy.waiting_grace = std::time::Duration::from_secs(3);
    let outcome = runtime.block_on(async { tracker.track(vec![broken.clone()], options).outcome().await });
    assert!(matches!(outcome.end, End::Failed), "{outcome:?}");
    let explanation = outcome.objects[0].explanation.as_ref().expect("an explanation");
    let pull = explanation.details.iter().find(|d| d.reason.code.as_str().contains("ImagePull")).expect("the pull failure");
    assert_eq!(pull.reason.container.as_deref(), Some("app"));
    assert!(pull.reason.object.name.starts_with("broken-"));

    // Waiting for the healthy one to be deleted never ends by itself: interrupting it does.
    let fine = ObjectRef::new("Deployment", Some(ns.name.clone()), "fine");
    let options = TrackOptions { goal: Goal::Deleted, timeout: None, ..TrackOptions::default() };
    let outcome = runtime.block_on(async {
        let mut tracking = tracker.track(vec![fine], options);
        tracking.next().await.expect("a first verdict");
        tracking.interrupt();
        tracking.outcome().await
    });
    assert!(matches!(outcome.end, End::Interrupted), "{outcome:?}");
    assert!(!outcome.objects[0].reached);
}
