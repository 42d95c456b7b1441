//! The same scenarios in both worlds: every manifest of `scenarios/` runs on the simulator's nodes
//! and on a real node (a kubelet with containerd and runc), and rollwatch must give the same
//! verdict with the same reason code on both — so a misreading of the kubelet shared by the
//! simulator and the verdict rules shows up here.
//!
//! Needs a cluster with a real node: `ROLLWATCH_REAL_NODES=1 scripts/cluster up` (scripts/test
//! starts one for this file). Pods go to the real node by the node selector and toleration that
//! [`placed`](rollwatch_testbed::placed) adds; unchanged, they land on the simulator's nodes, which are not tainted.

use rollwatch_testbed::{REAL_NODE_KEY, TestNamespace, World, kubectl_global, placed, scenario};
use serde_json::Value;

/// Short graces, so failures are reported in seconds, and a short settle window; three minutes at
/// most for a scenario (the progress deadline stays at its 10 minutes, so exit 1 is rollwatch's
/// own finding).
const TOLERANCES: &[&str] = &["--waiting-grace", "5s", "--readiness-grace", "5s", "--stable-for", "2s", "--timeout", "3m"];

/// What rollwatch said about one run: the summary's result and, per object, its state and the
/// reason codes of its explanation.
#[derive(Debug, PartialEq)]
struct Outcome {
    result: String,
    objects: Vec<(String, String, Vec<String>)>,
}

/// `rollwatch apply -f -` of `manifest` in `ns`, read from its JSON summary.
fn track(ns: &TestNamespace, manifest: &str) -> Outcome {
    let mut args = vec!["apply", "-f", "-", "-o", "json"];
    args.extend_from_slice(TOLERANCES);
    let run = ns.rollwatch_stdin(&args, manifest);
    let summary = run.json_lines().pop().unwrap_or_else(|| panic!("no summary: {}", run.output()));
    assert_eq!(summary["event"], "summary", "{}", run.output());
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let objects = summary["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["object"]["kind"] != "ConfigMap")
        .map(|o| {
            let codes = o["explanation"]["details"].as_array().into_iter().flatten().map(|d| text(&d["reason"]["code"])).collect();
            (text(&o["object"]["name"]), text(&o["state"]), codes)
        })
        .collect();
    let outcome = Outcome { result: text(&summary["result"]), objects };
    // The whole summary (reasons' messages, times) for a run that differs between the worlds.
    eprintln!("{}: {outcome:?}\n{summary}\n{}", ns.name, run.stderr);
    outcome
}

/// Where the pods of `ns` ran: the set of their nodes' `rollwatch.dev/node` labels ("real", or
/// "" on a simulated node), so a test cannot pass with both runs in one world.
fn worlds_of_pods(ns: &TestNamespace) -> Vec<String> {
    let pods = ns.get("pods");
    let mut labels: Vec<String> = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pod| pod["spec"]["nodeName"].as_str())
        .map(|node| {
            let node = kubectl_global(&["get", "node", node, "-o", "json"]).ok().json();
            node["metadata"]["labels"][REAL_NODE_KEY].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// Runs `file` in both worlds (in parallel, each in a namespace of its own), then, when `update`,
/// applies it again with the image's second tag. Asserts the same outcomes in both worlds, each
/// run on its own world's nodes, and returns the outcomes (of the update, when there is one).
fn in_both_worlds(prefix: &str, file: &str, update: bool) -> Outcome {
    let real_nodes = kubectl_global(&["get", "nodes", "-l", &format!("{REAL_NODE_KEY}=real"), "-o", "name"]).ok();
    assert!(
        !real_nodes.stdout.trim().is_empty(),
        "the cluster under test has no real node: start it with ROLLWATCH_REAL_NODES=1 scripts/cluster up (scripts/test does)"
    );
    let run_in = |world: World| {
        let ns = TestNamespace::new(&format!("{prefix}-{}", if world == World::Real { "real" } else { "sim" }));
        let first = track(&ns, &placed(&scenario(file, false), world));
        let second = update.then(|| track(&ns, &placed(&scenario(file, true), world)));
        let worlds = worlds_of_pods(&ns);
        let expected = if world == World::Real { "real" } else { "" };
        assert_eq!(worlds, [expected], "{world:?}: the pods of {} ran on the wrong nodes", ns.name);
        (first, second)
    };
    let (simulated, real) = std::thread::scope(|s| {
        let real = s.spawn(|| run_in(World::Real));
        let simulated = run_in(World::Simulated);
        (simulated, real.join().expect("the real-node run"))
    });
    assert_eq!(simulated.0, real.0, "{file}: simulated (left) and real (right) differ");
    assert_eq!(simulated.1, real.1, "{file} updated: simulated (left) and real (right) differ");
    simulated.1.unwrap_or(simulated.0)
}

/// Asserts `outcome` is a failure whose first reason has one of `codes`.
#[track_caller]
fn failed_with(outcome: &Outcome, codes: &[&str]) {
    assert_eq!(outcome.result, "failed", "{outcome:?}");
    let first = outcome.objects.iter().find(|o| o.1 == "Failed").and_then(|o| o.2.first()).expect("a failed object with a reason");
    assert!(codes.contains(&first.as_str()), "{first} is not one of {codes:?}: {outcome:?}");
}

#[track_caller]
fn ready(outcome: &Outcome) {
    assert_eq!(outcome.result, "ready", "{outcome:?}");
}

/// Named `real_node::...`, as every test that needs a real node: scripts/test runs them on an
/// instance that has one, and skips them on the other.
mod real_node {
    use super::*;

    #[test]
    fn healthy_with_a_readiness_probe() {
        ready(&in_both_worlds("b-healthy", "healthy.yaml", false));
    }

    #[test]
    fn crash_loop() {
        failed_with(&in_both_worlds("b-crash", "crash-loop.yaml", false), &["NonZeroExit", "CrashLoopBackOff"]);
    }

    #[test]
    fn oom_kill() {
        failed_with(&in_both_worlds("b-oom", "oom.yaml", false), &["OOMKilled"]);
    }

    #[test]
    fn missing_image() {
        failed_with(&in_both_worlds("b-image", "missing-image.yaml", false), &["ErrImagePull", "ImagePullBackOff"]);
    }

    #[test]
    fn missing_configmap_key() {
        failed_with(&in_both_worlds("b-cmkey", "missing-configmap-key.yaml", false), &["CreateContainerConfigError"]);
    }

    #[test]
    fn missing_secret() {
        failed_with(&in_both_worlds("b-secret", "missing-secret.yaml", false), &["CreateContainerConfigError"]);
    }

    #[test]
    fn never_ready() {
        failed_with(&in_both_worlds("b-unready", "never-ready.yaml", false), &["ReadinessProbeFailing"]);
    }

    #[test]
    fn liveness_restarts() {
        failed_with(&in_both_worlds("b-liveness", "liveness-restarts.yaml", false), &["LivenessProbeFailed"]);
    }

    #[test]
    fn init_container_failure() {
        failed_with(&in_both_worlds("b-init", "init-failure.yaml", false), &["NonZeroExit", "CrashLoopBackOff"]);
    }

    #[test]
    fn job_success() {
        ready(&in_both_worlds("b-jobok", "job-success.yaml", false));
    }

    #[test]
    fn job_failure() {
        failed_with(&in_both_worlds("b-jobfail", "job-failure.yaml", false), &["BackoffLimitExceeded"]);
    }

    #[test]
    fn deployment_rolling_update() {
        ready(&in_both_worlds("b-roll", "rolling-update.yaml", true));
    }

    #[test]
    fn statefulset_update_with_a_partition() {
        ready(&in_both_worlds("b-sts", "statefulset-partition.yaml", true));
    }

    #[test]
    fn daemonset_update() {
        ready(&in_both_worlds("b-ds", "daemonset-update.yaml", true));
    }
}
