//! The rollout duration model against hand-replayed controller decisions. Unless a test says
//! otherwise, a new pod is available 100 s after creation (1 s start latency + 99 s probe delay)
//! and an old pod takes 1 s to terminate (the default assumptions).

use std::time::Duration;

use rollwatch_verdict::Progress;
use rollwatch_verdict::estimate::{Assumptions, Estimate, EstimateError, estimate, updated_available};
use serde_json::{Value, json};

fn container_with_probe(initial_delay: u32) -> Value {
    json!({"name": "app", "readinessProbe": {"initialDelaySeconds": initial_delay, "periodSeconds": 10}})
}

fn deployment(replicas: u32, rolling_update: Value) -> Value {
    json!({
        "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": rolling_update},
            "template": {"spec": {"containers": [container_with_probe(99)]}}
        }
    })
}

fn estimate_default(manifest: &Value) -> Estimate {
    estimate(manifest, &Assumptions::default()).expect("estimable manifest")
}

/// (pods, starts_at, available_at) in seconds per wave, alike waves listed one by one.
type WaveTable = Vec<(u32, u64, u64)>;

fn wave_table(estimate: &Estimate) -> WaveTable {
    estimate
        .waves
        .iter()
        .flat_map(|wave| (0..wave.count).map(move |index| (wave.pods, (wave.starts_at + wave.every * index).as_secs(), wave.nth_available_at(index).as_secs())))
        .collect()
}

#[test]
fn deployment_rolling_updates_follow_the_controller() {
    // (replicas, rollingUpdate, resolved strategy, waves, total seconds)
    let cases: Vec<(u32, Value, &str, WaveTable, u64)> = vec![
        // The example. The rule of thumb "replicas ÷ 25% × readiness" says 4 waves ×
        // 100 s = 400 s; the controller surges 8 (ceil 7.5) and drops 7 (floor 7.5) old pods at
        // once, so 15 new pods start at once and the rollout needs only 2 waves.
        (30, json!({"maxSurge": "25%", "maxUnavailable": "25%"}), "maxSurge=8 maxUnavailable=7", vec![(15, 0, 100), (15, 100, 200)], 200),
        // Percentages that round: surge ceil(2.5) = 3, unavailable floor(2.5) = 2.
        (10, json!({"maxSurge": "25%", "maxUnavailable": "25%"}), "maxSurge=3 maxUnavailable=2", vec![(5, 0, 100), (5, 100, 200)], 200),
        // Zero surge: each old pod goes first, then its replacement starts.
        (3, json!({"maxSurge": 0, "maxUnavailable": 1}), "maxSurge=0 maxUnavailable=1", vec![(1, 0, 100), (1, 100, 200), (1, 200, 300)], 300),
        // Zero unavailable: one extra pod at a time.
        (3, json!({"maxSurge": 1, "maxUnavailable": 0}), "maxSurge=1 maxUnavailable=0", vec![(1, 0, 100), (1, 100, 200), (1, 200, 300)], 300),
        // 10% of 3: surge rounds up to 1, unavailable down to 0: same as above.
        (3, json!({"maxSurge": "10%", "maxUnavailable": "10%"}), "maxSurge=1 maxUnavailable=0", vec![(1, 0, 100), (1, 100, 200), (1, 200, 300)], 300),
        // Both zero: the controller forces maxUnavailable = 1.
        (2, json!({"maxSurge": 0, "maxUnavailable": 0}), "maxSurge=0 maxUnavailable=1", vec![(1, 0, 100), (1, 100, 200)], 200),
        // 100% surge: everything at once.
        (4, json!({"maxSurge": "100%", "maxUnavailable": 0}), "maxSurge=4 maxUnavailable=0", vec![(4, 0, 100)], 100),
        // One replica with the defaults (25%/25% → surge 1, unavailable 0).
        (1, Value::Null, "maxSurge=1 maxUnavailable=0", vec![(1, 0, 100)], 100),
        // A surge of 2 without unavailability: 2 + 2 + 1, the last wave smaller.
        (5, json!({"maxSurge": 2, "maxUnavailable": 0}), "maxSurge=2 maxUnavailable=0", vec![(2, 0, 100), (2, 100, 200), (1, 200, 300)], 300),
        // Surge and unavailable of 1 each: the surge pod and the one replacing a dropped old pod
        // start together, so 2 per wave.
        (4, json!({"maxSurge": 1, "maxUnavailable": 1}), "maxSurge=1 maxUnavailable=1", vec![(2, 0, 100), (2, 100, 200)], 200),
        // 30% of 7: surge ceil(2.1) = 3, unavailable floor(2.1) = 2; 5 pods start at once, and
        // when they are available all old pods go and the last 2 start.
        (7, json!({"maxSurge": "30%", "maxUnavailable": "30%"}), "maxSurge=3 maxUnavailable=2", vec![(5, 0, 100), (2, 100, 200)], 200),
        // maxUnavailable above the replicas is capped at them: everything is replaced at once.
        (2, json!({"maxSurge": 0, "maxUnavailable": 5}), "maxSurge=0 maxUnavailable=2", vec![(2, 0, 100)], 100),
        // Zero replicas: nothing to wait for (and nothing may be unavailable).
        (0, Value::Null, "maxSurge=0 maxUnavailable=0", vec![], 0),
    ];
    for (replicas, rolling_update, strategy, waves, total) in cases {
        let context = format!("{replicas} replicas, {rolling_update}");
        let estimate = estimate_default(&deployment(replicas, rolling_update));
        assert_eq!(estimate.strategy, format!("RollingUpdate {strategy}"), "{context}");
        assert_eq!(wave_table(&estimate), waves, "{context}");
        assert_eq!(estimate.total, Duration::from_secs(total), "{context}");
        assert_eq!(estimate.pods_to_update, replicas, "{context}");
    }
}

#[test]
fn recreate_waits_for_termination_then_starts_all() {
    let mut manifest = deployment(5, Value::Null);
    manifest["spec"]["strategy"] = json!({"type": "Recreate"});
    let estimate = estimate_default(&manifest);
    assert_eq!(wave_table(&estimate), vec![(5, 1, 101)]);
    assert_eq!(estimate.total, Duration::from_secs(101));
}

#[test]
fn pod_times_follow_probe_timings_and_min_ready_seconds() {
    let mut manifest = deployment(1, Value::Null);
    manifest["spec"]["minReadySeconds"] = json!(9);
    manifest["spec"]["template"]["spec"]["containers"] = json!([
        {"name": "fast"},
        {"name": "slow", "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 5, "successThreshold": 3}},
    ]);
    let with_probes = estimate_default(&manifest);
    // ready = start 1 + delay 10 + (3 - 1) × period 5; available minReadySeconds 9 later.
    assert_eq!(with_probes.per_pod_ready, Duration::from_secs(21));
    assert_eq!(with_probes.per_pod_available, Duration::from_secs(30));

    manifest["spec"]["template"]["spec"]["containers"] = json!([{"name": "no-probe"}]);
    let assumptions = Assumptions { pod_start: Duration::from_secs(4), ..Assumptions::default() };
    let no_probe = estimate(&manifest, &assumptions).unwrap();
    assert_eq!(no_probe.per_pod_ready, Duration::from_secs(4));
    assert_eq!(no_probe.per_pod_available, Duration::from_secs(13));
}

#[test]
fn readiness_probes_count_only_after_the_startup_probe_passes() {
    // (startupProbe, readinessProbe, ready seconds after the 1 s start)
    let cases = [
        // Readiness runs at 5, 9, 13, ...; the startup probe passes at 12, so 13 counts first
        // and the second success (threshold 2) is at 17.
        (json!({"initialDelaySeconds": 12}), json!({"initialDelaySeconds": 5, "periodSeconds": 4, "successThreshold": 2}), 17),
        // The startup probe passes before the readiness delay: it does not add up.
        (json!({"initialDelaySeconds": 3}), json!({"initialDelaySeconds": 8, "periodSeconds": 10}), 8),
        // A readiness run at the very moment the startup probe passes counts.
        (json!({"initialDelaySeconds": 6}), json!({"initialDelaySeconds": 2, "periodSeconds": 2}), 6),
        // Without a readiness probe the container is Ready once started.
        (json!({"initialDelaySeconds": 7}), Value::Null, 7),
    ];
    for (startup, readiness, ready) in cases {
        let mut manifest = deployment(1, Value::Null);
        manifest["spec"]["template"]["spec"]["containers"] = json!([{"name": "app", "startupProbe": startup, "readinessProbe": readiness}]);
        let estimate = estimate_default(&manifest);
        assert_eq!(estimate.per_pod_ready, Duration::from_secs(1 + ready), "startup {startup}, readiness {readiness}");
    }
}

fn stateful_set(replicas: u32, management: &str, update_strategy: Value) -> Value {
    json!({
        "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {
            "replicas": replicas, "podManagementPolicy": management, "updateStrategy": update_strategy,
            "template": {"spec": {"containers": [container_with_probe(99)]}}
        }
    })
}

#[test]
fn stateful_sets_update_one_pod_at_a_time_above_the_partition() {
    // (replicas, podManagementPolicy, updateStrategy, pods updated, total seconds)
    let cases = [
        (3, "OrderedReady", json!({"type": "RollingUpdate"}), 3, 303),
        // Parallel pod management does not parallelise rolling updates on v1.20.
        (3, "Parallel", json!({"type": "RollingUpdate"}), 3, 303),
        (5, "OrderedReady", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}), 3, 303),
        (4, "Parallel", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}), 3, 303),
        (2, "OrderedReady", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 5}}), 0, 0),
    ];
    for (replicas, management, strategy, pods, total) in cases {
        let context = format!("{replicas} replicas, {management}, {strategy}");
        let estimate = estimate_default(&stateful_set(replicas, management, strategy));
        assert_eq!(estimate.wave_count(), pods, "{context}");
        assert!(estimate.waves.iter().all(|wave| wave.pods == 1), "{context}");
        // Each pod: 1 s for the old one to go, 100 s for the new one to be available.
        if let Some(first) = estimate.waves.first() {
            assert_eq!((first.starts_at.as_secs(), first.available_at.as_secs()), (1, 101), "{context}");
        }
        assert_eq!(estimate.total, Duration::from_secs(total), "{context}");
    }
    let on_delete = estimate(&stateful_set(3, "OrderedReady", json!({"type": "OnDelete"})), &Assumptions::default());
    assert_eq!(on_delete, Err(EstimateError::OnDelete { object: "StatefulSet/db".into() }));
}

fn daemon_set(update_strategy: Value) -> Value {
    json!({
        "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"updateStrategy": update_strategy, "template": {"spec": {"containers": [container_with_probe(99)]}}}
    })
}

#[test]
fn daemon_sets_update_max_unavailable_nodes_at_a_time() {
    // (nodes, updateStrategy, pods per wave, waves, total seconds)
    let cases = [
        (5, json!({"type": "RollingUpdate"}), 1, 5, 505),
        (5, json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}), 1, 5, 505),
        // 10% of 25 nodes rounds up to 3: 8 waves of 3 and one of 1.
        (25, json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}}), 3, 9, 909),
        // 34% of 3 nodes rounds up to 2: a wave of 2, then 1.
        (3, json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "34%"}}), 2, 2, 202),
        // Every node at once.
        (4, json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}}), 4, 1, 101),
    ];
    for (nodes, strategy, per_wave, waves, total) in cases {
        let context = format!("{nodes} nodes, {strategy}");
        let assumptions = Assumptions { nodes: Some(nodes), ..Assumptions::default() };
        let estimate = estimate(&daemon_set(strategy), &assumptions).unwrap();
        assert_eq!(estimate.wave_count(), waves, "{context}");
        assert_eq!(estimate.waves[0].pods, per_wave, "{context}");
        assert_eq!(estimate.pods_to_update, nodes, "{context}");
        assert_eq!(estimate.total, Duration::from_secs(total), "{context}");
    }
    let without_nodes = estimate(&daemon_set(json!({"type": "RollingUpdate"})), &Assumptions::default());
    assert_eq!(without_nodes, Err(EstimateError::NodeCountMissing { object: "DaemonSet/agent".into() }));
}

#[test]
fn bad_input_names_the_object_and_the_field() {
    let error = estimate(&deployment(3, json!({"maxSurge": "lots"})), &Assumptions::default()).unwrap_err();
    assert_eq!(error.to_string(), "Deployment/web: field spec.strategy.rollingUpdate.maxSurge: expected an integer or a percentage like \"25%\"");
    let mut manifest = deployment(3, Value::Null);
    manifest["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSeconds"] = json!(-1);
    let error = estimate(&manifest, &Assumptions::default()).unwrap_err();
    assert_eq!(error.to_string(), "Deployment/web: field spec.template.spec.containers.0.readinessProbe.periodSeconds: expected a non-negative integer");
    let pod = json!({"kind": "Pod", "metadata": {"name": "p"}});
    assert!(matches!(estimate(&pod, &Assumptions::default()), Err(EstimateError::UnsupportedKind { .. })));
}

#[test]
fn remaining_time_and_slowness_follow_the_model() {
    // Waves: 15 pods available at 100 s, 15 more at 200 s.
    let estimate = estimate_default(&deployment(30, json!({"maxSurge": "25%", "maxUnavailable": "25%"})));
    assert_eq!(estimate.expected_time_for(15), Duration::from_secs(100));
    assert_eq!(estimate.expected_time_for(16), Duration::from_secs(200));
    // (elapsed, updated pods available, expected remaining) in seconds
    let cases = [
        // On schedule, inside the first wave.
        (50, 0, 150),
        // On schedule, inside the second wave.
        (120, 15, 80),
        // Behind: the first wave is overdue, so at least the second wave is still to go.
        (150, 0, 100),
        // Ahead: the first wave is available early, the second still takes its 100 s.
        (60, 15, 100),
        // Done.
        (300, 30, 0),
        (10, 30, 0),
    ];
    for (elapsed, available, remaining) in cases {
        assert_eq!(
            estimate.remaining_after(Duration::from_secs(elapsed), available),
            Duration::from_secs(remaining),
            "{elapsed} s elapsed, {available} pods available"
        );
    }
    // The first pod is due at 100 s: slower only past 2 × 100 s + 30 s.
    assert!(!estimate.is_slower_than_expected(Duration::from_secs(230), 0));
    assert!(estimate.is_slower_than_expected(Duration::from_secs(231), 0));
    assert!(!estimate.is_slower_than_expected(Duration::from_secs(10_000), 30));
}

#[test]
fn a_pace_tells_the_remaining_time_later_without_the_estimate() {
    // Waves: 15 pods available at 100 s, 15 more at 200 s.
    let estimate = estimate_default(&deployment(30, json!({"maxSurge": "25%", "maxUnavailable": "25%"})));
    let pace = estimate.pace(Duration::from_secs(50), 0);
    assert_eq!(pace.expected_total, Duration::from_secs(200));
    assert_eq!(pace.next_pod_due, Duration::from_secs(100));
    assert_eq!(pace.remaining(), Duration::from_secs(150));
    // The clock moves, the progress does not: the remaining time runs down to the second wave's
    // 100 s and stays there, and past 2 × 100 s + 30 s the rollout is slower than expected.
    for (later, remaining, slower) in [(30, 120, false), (80, 100, false), (180, 100, false), (181, 100, true)] {
        let moved = pace.after(Duration::from_secs(later));
        assert_eq!(moved, estimate.pace(Duration::from_secs(50 + later), 0));
        assert_eq!(moved.remaining(), Duration::from_secs(remaining), "{later} s later");
        assert_eq!(moved.slower_than_expected(), slower, "{later} s later");
    }
    let done = estimate.pace(Duration::from_secs(10_000), 30);
    assert_eq!((done.remaining(), done.slower_than_expected()), (Duration::ZERO, false));
    let json = serde_json::to_value(pace).unwrap();
    assert_eq!(json, json!({"expected_total_seconds": 200.0, "elapsed_seconds": 50.0, "next_pod_due_seconds": 100.0}));
}

#[test]
fn updated_available_pods_are_the_available_ones_that_are_not_old() {
    let progress = |desired, updated, available, old| Progress { desired, updated, ready: available, available, old_pending_termination: old };
    // (desired, updated, available, old pods, updated available)
    let cases = [
        // A Deployment surging: 3 old pods available, 1 new one starting.
        (3, 1, 3, 3, 0),
        // One new pod available, 2 old ones left.
        (3, 1, 3, 2, 1),
        // A StatefulSet between deleting an old pod and creating its replacement.
        (3, 1, 2, 1, 1),
        // An old pod is unavailable: counted as an updated one missing (never more than updated).
        (3, 2, 2, 1, 1),
        (3, 1, 5, 0, 1),
        // Done.
        (3, 3, 3, 0, 3),
        // Nothing yet.
        (3, 0, 0, 0, 0),
    ];
    for (desired, updated, available, old, expected) in cases {
        assert_eq!(updated_available(&progress(desired, updated, available, old)), expected, "{updated} updated, {available} available, {old} old");
    }
}

#[test]
fn breakdown_renders_as_text_and_json() {
    let estimate = estimate_default(&deployment(30, json!({"maxSurge": "25%", "maxUnavailable": "25%"})));
    let text = estimate.render_text();
    assert!(text.starts_with("Deployment/web: RollingUpdate maxSurge=8 maxUnavailable=7, 30 pod(s) to update in 2 wave(s), at least 200s\n"), "{text}");
    assert!(text.contains("  waves 1-2: 15 new pod(s) each, at 0s and every 100s after, the last available at 200s\n"), "{text}");
    let json = serde_json::to_value(&estimate).unwrap();
    assert_eq!(json["total_seconds"], json!(200.0));
    assert_eq!(json["waves"], json!([{"pods": 15, "starts_at_seconds": 0.0, "available_at_seconds": 100.0, "count": 2, "every_seconds": 100.0}]));
    assert!(estimate.timeout_advice(Duration::from_secs(150)).unwrap().contains("shorter than the expected minimum rollout time 200s"));
    assert_eq!(estimate.timeout_advice(Duration::from_secs(300)), None);
}
