//! Stuck and unschedulable pods judged by evidence: a rollout whose statuses stop changing fails
//! after `--no-progress-timeout`; a pod no node can fit fails at once, and an unschedulable one
//! after a grace that depends on whether a cluster autoscaler may add a node.

use rollwatch_testbed::TestNamespace;

/// A Deployment of one pod whose init container `migrate` runs for an hour: the pod stays
/// Pending / PodInitializing and its status does not change.
const STUCK_IN_INIT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {sim.rollwatch.dev/behavior.migrate: 'exit code=0 after=1h'}
    spec:
      initContainers: [{name: migrate, image: "shop/migrate:1"}]
      containers: [{name: app, image: "shop/web:1"}]
"#;

#[test]
fn a_rollout_whose_pod_never_changes_fails_after_the_no_progress_timeout() {
    let ns = TestNamespace::new("stuck-init");
    let run = ns.rollwatch_stdin(&["apply", "-f", "-", "--no-progress-timeout", "10s", "--timeout", "3m"], STUCK_IN_INIT);
    assert_eq!(run.code, Some(1), "a failed rollout, not a timeout:\n{}", run.output());
    let text = run.output();
    assert!(text.contains("NoProgress"), "{text}");
    assert!(text.contains("no progress for 10s: pod web-") && text.contains("Pending: PodInitializing"), "{text}");
}
