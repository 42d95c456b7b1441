//! `rollwatch history / undo / pause / resume / restart` against the real kubectl on the same
//! objects: the same revisions and change causes as `kubectl rollout history`, the same pod
//! template after an undo as `kubectl rollout undo` leaves, a pause that holds a rollout
//! mid-way, undo through ControllerRevisions, and a read-only user who can read the history
//! but not undo.

use std::time::Duration;

use rollwatch_testbed::{Run, TestNamespace, wait_for};
use serde_json::Value;

/// Generous: the machine is small and busy, and the cluster is real.
const WAIT: Duration = Duration::from_secs(240);
const TIMEOUT: &str = "4m";

/// A Deployment of `replicas` whose selector includes `name`, so twins never share pods;
/// `probe_delay` seconds before each pod is ready (the simulator honours readiness probes).
fn deployment(name: &str, replicas: u32, probe_delay: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  \
         strategy: {{rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}\n  selector: {{matchLabels: {{app: web, twin: {name}}}}}\n  \
         template:\n    metadata: {{labels: {{app: web, twin: {name}}}}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.19\n        \
         env: [{{name: MODE, value: fast}}]\n        \
         readinessProbe: {{httpGet: {{path: /healthz, port: 8080}}, initialDelaySeconds: {probe_delay}, periodSeconds: 1}}\n"
    )
}

#[track_caller]
fn assert_code(run: &Run, code: i32, what: &str) {
    assert_eq!(run.code, Some(code), "{what}:\n{}", run.output());
}

/// `kubectl rollout history` as (revision, change cause).
fn kubectl_history(ns: &TestNamespace, object: &str) -> Vec<(i64, Option<String>)> {
    let run = ns.kubectl(&["rollout", "history", object]).ok();
    run.stdout
        .lines()
        .filter_map(|line| {
            let (number, cause) = line.trim().split_once(char::is_whitespace).unwrap_or((line.trim(), ""));
            let cause = cause.trim();
            Some((number.parse().ok()?, (cause != "<none>").then(|| cause.to_string())))
        })
        .collect()
}

/// `rollwatch history -o json`'s revisions.
fn rollwatch_history(ns: &TestNamespace, object: &str) -> Vec<Value> {
    let run = ns.rollwatch(&["history", object, "-o", "json"]);
    assert_code(&run, 0, "history");
    run.json_lines().pop().expect("one JSON line")["revisions"].as_array().cloned().unwrap_or_default()
}

fn as_pairs(revisions: &[Value]) -> Vec<(i64, Option<String>)> {
    revisions.iter().map(|r| (r["revision"].as_i64().unwrap(), r["change_cause"].as_str().map(str::to_string))).collect()
}

/// A pod template without what legitimately differs between twins and between a ReplicaSet's
/// copy and the Deployment's: the hash label, the twin label and null creation timestamps.
fn comparable(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(metadata) = template["metadata"].as_object_mut() {
        metadata.remove("creationTimestamp");
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove("pod-template-hash");
            labels.remove("twin");
        }
    }
    template
}

fn wait_ready(ns: &TestNamespace, object: &str) {
    assert_code(&ns.rollwatch(&["wait", object, "--timeout", TIMEOUT]), 0, &format!("{object} becomes ready"));
}

#[test]
fn history_lists_the_same_revisions_and_change_causes_as_kubectl_with_readable_diffs() {
    let ns = TestNamespace::new("ro-history");
    ns.apply(&deployment("web", 2, 0)).ok();
    wait_ready(&ns, "deployment/web");
    assert_code(&ns.rollwatch(&["set", "image", "deployment/web", "app=nginx:1.20", "--timeout", TIMEOUT]), 0, "rollwatch set image");
    ns.kubectl(&["set", "image", "deployment/web", "app=nginx:1.21"]).ok();
    wait_ready(&ns, "deployment/web");
    let restart = ns.rollwatch(&["restart", "deployment/web", "--timeout", TIMEOUT]);
    assert_code(&restart, 0, "restart is tracked to ready");
    assert!(restart.stdout.contains("Ready"), "{}", restart.output());
    let template = ns.get("deployment/web")["spec"]["template"].clone();
    assert!(template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string(), "restart stamps the template as kubectl: {template}");

    let ours = rollwatch_history(&ns, "deployment/web");
    let theirs = kubectl_history(&ns, "deployment/web");
    assert_eq!(as_pairs(&ours), theirs, "rollwatch and kubectl list the same revisions and causes");
    assert_eq!(theirs.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let cause = |n: usize| theirs[n].1.clone().unwrap_or_default();
    assert!(cause(1).starts_with("rollwatch ") && cause(1).contains("set image deployment/web app=nginx:1.20"), "{theirs:?}");
    assert!(cause(3).contains("restart deployment/web"), "{theirs:?}");
    let images: Vec<&str> = ours.iter().map(|r| r["images"][0].as_str().unwrap()).collect();
    assert_eq!(images, ["nginx:1.19", "nginx:1.20", "nginx:1.21", "nginx:1.21"]);
    let pods: Vec<i64> = ours.iter().map(|r| r["pods"].as_i64().unwrap()).collect();
    assert_eq!(pods, [0, 0, 0, 2], "only the current revision runs pods");
    assert_eq!(ours[3]["current"], true);

    // Each revision is the ReplicaSet kubectl names, with the same template.
    for revision in &ours {
        let number = revision["revision"].to_string();
        let replica_set = ns.kubectl(&["rollout", "history", "deployment/web", "--revision", &number, "-o", "json"]).ok().json();
        assert_eq!(revision["name"], replica_set["metadata"]["name"]);
        let shown = ns.rollwatch(&["history", "deployment/web", "--revision", &number, "-o", "json"]);
        assert_code(&shown, 0, "history --revision");
        assert_eq!(comparable(&shown.json()["revision"]["template"]), comparable(&replica_set["spec"]["template"]), "revision {number}");
    }

    let diff = ns.rollwatch(&["history", "deployment/web", "--diff", "1", "4"]);
    assert_code(&diff, 0, "history --diff");
    for expected in ["container app:", "image: nginx:1.19 -> nginx:1.21", "annotation kubectl.kubernetes.io/restartedAt: added: "] {
        assert!(diff.stdout.contains(expected), "the diff says {expected:?}:\n{}", diff.stdout);
    }
    assert!(!diff.stdout.contains("terminationMessagePath"), "unchanged fields are not shown:\n{}", diff.stdout);
    let json_diff = ns.rollwatch(&["history", "deployment/web", "--diff", "2", "3", "-o", "json"]).json();
    assert_eq!(
        json_diff["changes"],
        serde_json::json!([{"scope": {"in": "container", "name": "app"}, "field": "image", "from": "nginx:1.20", "to": "nginx:1.21"}])
    );
}

#[test]
fn undo_to_a_revision_leaves_the_template_kubectls_undo_leaves_on_a_twin() {
    let ns = TestNamespace::new("ro-undo");
    for twin in ["kubectl-twin", "rollwatch-twin"] {
        ns.apply(&deployment(twin, 2, 0)).ok();
        wait_ready(&ns, &format!("deployment/{twin}"));
        // Revision 2 changes the image and an environment variable in one step, revision 3 the image.
        let both = r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.20","env":[{"name":"MODE","value":"safe"}]}]}}}}"#;
        ns.kubectl(&["patch", &format!("deployment/{twin}"), "-p", both]).ok();
        wait_ready(&ns, &format!("deployment/{twin}"));
        ns.kubectl(&["set", "image", &format!("deployment/{twin}"), "app=nginx:1.21"]).ok();
        wait_ready(&ns, &format!("deployment/{twin}"));
    }
    ns.kubectl(&["rollout", "undo", "deployment/kubectl-twin", "--to-revision=2"]).ok();
    let undo = ns.rollwatch(&["undo", "deployment/rollwatch-twin", "--to-revision", "2", "--timeout", TIMEOUT]);
    assert_code(&undo, 0, "rollwatch undo is tracked to ready");
    assert!(undo.stdout.contains("rolled back to revision 2 (images: nginx:1.20)"), "{}", undo.output());
    wait_ready(&ns, "deployment/kubectl-twin");

    let template = |name: &str| comparable(&ns.get(&format!("deployment/{name}"))["spec"]["template"]);
    assert_eq!(template("rollwatch-twin"), template("kubectl-twin"));
    let container = &template("rollwatch-twin")["spec"]["containers"][0];
    assert_eq!((&container["image"], &container["env"][0]["value"]), (&"nginx:1.20".into(), &"safe".into()));
    assert_eq!(
        as_pairs(&rollwatch_history(&ns, "deployment/rollwatch-twin")).iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        kubectl_history(&ns, "deployment/kubectl-twin").iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "both histories renumber the restored revision alike"
    );
    let cause = ns.get("deployment/rollwatch-twin")["metadata"]["annotations"]["kubernetes.io/change-cause"].clone();
    assert!(cause.as_str().unwrap_or_default().contains("undo deployment/rollwatch-twin --to-revision 2"), "{cause}");

    // Undoing to the current template changes nothing; a missing revision is an input error.
    let generation = ns.get("deployment/rollwatch-twin")["metadata"]["generation"].clone();
    let current = ns.rollwatch(&["undo", "deployment/rollwatch-twin", "--to-revision", "4"]);
    assert_code(&current, 0, "undo to the current revision");
    assert!(current.stdout.contains("nothing to undo: the current template already is revision 4's"), "{}", current.output());
    let missing = ns.rollwatch(&["undo", "deployment/rollwatch-twin", "--to-revision", "9"]);
    assert_code(&missing, 2, "undo to a missing revision");
    assert!(missing.stderr.contains("revision 9 not found in the history (revisions: 1, 3, 4)"), "{}", missing.output());
    assert_eq!(ns.get("deployment/rollwatch-twin")["metadata"]["generation"], generation, "nothing changed");
}

/// The ReplicaSets of `deployment` as (image, spec.replicas, status.readyReplicas).
fn replica_sets(ns: &TestNamespace, deployment: &str) -> Vec<(String, i64, i64)> {
    let listed = ns.kubectl(&["get", "rs", "-l", &format!("twin={deployment}"), "-o", "json"]).ok().json();
    listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|rs| {
            let image = rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string();
            (image, rs["spec"]["replicas"].as_i64().unwrap_or(0), rs["status"]["readyReplicas"].as_i64().unwrap_or(0))
        })
        .collect()
}

#[test]
fn pause_holds_a_rollout_mid_way_and_resume_completes_it() {
    let ns = TestNamespace::new("ro-pause");
    // Each pod is ready 8 s after it starts, one new pod at a time: the rollout is slow enough
    // to be caught mid-way.
    ns.apply(&deployment("web", 3, 8)).ok();
    wait_ready(&ns, "deployment/web");
    ns.kubectl(&["set", "image", "deployment/web", "app=nginx:1.20"]).ok();
    wait_for("the new ReplicaSet to get its first pod", WAIT, || {
        replica_sets(&ns, "web").iter().any(|(image, replicas, _)| image == "nginx:1.20" && *replicas >= 1).then_some(())
    });
    let pause = ns.rollwatch(&["pause", "deployment/web"]);
    assert_code(&pause, 0, "pause");
    assert!(pause.stdout.contains("paused"), "{}", pause.output());
    assert_eq!(ns.get("deployment/web")["spec"]["paused"], true);

    // Once the new pods are ready and the controller has written the Deployment's status after
    // seeing them, an unpaused rollout would have scaled the new ReplicaSet further.
    let held = wait_for("the new pods to be ready and seen by the Deployment controller", WAIT, || {
        let sets = replica_sets(&ns, "web");
        let (_, new_replicas, new_ready) = sets.iter().find(|(image, ..)| image == "nginx:1.20").cloned()?;
        let web = ns.get("deployment/web");
        let status = &web["status"];
        let seen = status["observedGeneration"] == web["metadata"]["generation"]
            && status["readyReplicas"].as_i64() == Some(sets.iter().map(|(_, _, ready)| ready).sum());
        (new_ready == new_replicas && seen).then_some(new_replicas)
    });
    let sets = replica_sets(&ns, "web");
    let (_, new_replicas, _) = sets.iter().find(|(image, ..)| image == "nginx:1.20").cloned().unwrap();
    let (_, old_replicas, _) = sets.iter().find(|(image, ..)| image == "nginx:1.19").cloned().unwrap();
    assert_eq!(new_replicas, held, "paused: the new ReplicaSet is not scaled further");
    assert!(new_replicas < 3 && old_replicas > 0, "mid-way: {sets:?}");
    let status = ns.rollwatch(&["status", "deployment/web"]);
    assert_code(&status, 3, "a paused rollout is not ready");
    assert!(status.stdout.contains("PAUSED"), "{}", status.output());
    let again = ns.rollwatch(&["pause", "deployment/web"]);
    assert_code(&again, 0, "pausing twice");
    assert!(again.stdout.contains("already paused"), "{}", again.output());

    let resume = ns.rollwatch(&["resume", "deployment/web", "--timeout", TIMEOUT]);
    assert_code(&resume, 0, "resume is tracked to ready");
    assert!(resume.stdout.contains("resumed") && resume.stdout.contains("READY deployment/web"), "{}", resume.output());
    let sets = replica_sets(&ns, "web");
    assert!(sets.contains(&("nginx:1.20".into(), 3, 3)) && sets.contains(&("nginx:1.19".into(), 0, 0)), "{sets:?}");
}

const STATEFULSET: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  replicas: 2\n  serviceName: db\n  \
     selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers: [{name: db, image: 'redis:6'}]\n";
const DAEMONSET: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n  \
     template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: agent, image: 'agent:1'}]\n";

#[test]
fn statefulsets_and_daemonsets_undo_through_controller_revisions_tracked_to_ready() {
    let ns = TestNamespace::new("ro-revisions");
    for (manifest, object, container, images) in
        [(STATEFULSET, "statefulset/db", "db", ["redis:6", "redis:7"]), (DAEMONSET, "daemonset/agent", "agent", ["agent:1", "agent:2"])]
    {
        ns.apply(manifest).ok();
        wait_ready(&ns, object);
        ns.kubectl(&["set", "image", object, &format!("{container}={}", images[1])]).ok();
        wait_ready(&ns, object);
        assert_eq!(as_pairs(&rollwatch_history(&ns, object)), kubectl_history(&ns, object), "{object}");

        let undo = ns.rollwatch(&["undo", object, "--timeout", TIMEOUT]);
        assert_code(&undo, 0, &format!("undo {object} is tracked to ready"));
        assert!(undo.stdout.contains(&format!("rolled back to revision 1 (images: {})", images[0])), "{}", undo.output());
        assert!(undo.stdout.contains(&format!("READY {object}")), "{}", undo.output());
        assert_eq!(ns.get(object)["spec"]["template"]["spec"]["containers"][0]["image"], images[0]);

        let history = rollwatch_history(&ns, object);
        assert_eq!(as_pairs(&history), kubectl_history(&ns, object), "{object} after the undo");
        let current: Vec<&Value> = history.iter().filter(|r| r["current"] == true).collect();
        assert_eq!(current.len(), 1, "{history:?}");
        assert_eq!(current[0]["revision"], 3, "the restored revision is renumbered, as kubectl shows");
        assert_eq!(current[0]["images"][0], images[0]);
        let running: i64 = history.iter().map(|r| r["pods"].as_i64().unwrap()).sum();
        assert_eq!(current[0]["pods"].as_i64(), Some(running), "all pods run the restored revision: {history:?}");
        assert!(current[0]["change_cause"].as_str().unwrap_or_default().contains(&format!("undo {object}")), "{history:?}");
    }
    let pause = ns.rollwatch(&["pause", "statefulset/db"]);
    assert_code(&pause, 2, "a StatefulSet cannot be paused");
    assert!(pause.stderr.contains("statefulset/db cannot be paused or resumed: only Deployments can"), "{}", pause.output());
    assert!(ns.get("statefulset/db")["spec"].get("paused").is_none());
}

#[test]
fn a_read_only_user_reads_the_history_but_cannot_undo() {
    let ns = TestNamespace::new("ro-rbac");
    ns.apply(&deployment("web", 1, 0)).ok();
    wait_ready(&ns, "deployment/web");
    ns.kubectl(&["set", "image", "deployment/web", "app=nginx:1.20"]).ok();
    wait_ready(&ns, "deployment/web");
    let before = ns.get("deployment/web");

    let history = ns.rollwatch(&["--context", "rollwatch-viewer", "history", "deployment/web"]);
    assert_code(&history, 0, "the viewer reads the history");
    assert!(history.stdout.contains("nginx:1.19") && history.stdout.contains("nginx:1.20"), "{}", history.output());

    for command in [&["undo", "deployment/web"][..], &["restart", "deployment/web"], &["pause", "deployment/web"]] {
        let mut args = vec!["--context", "rollwatch-viewer"];
        args.extend_from_slice(command);
        let refused = ns.rollwatch(&args);
        assert_code(&refused, 4, &format!("the viewer cannot {}", command[0]));
        for expected in ["forbidden", "cannot patch resource \"deployments\""] {
            assert!(refused.stderr.contains(expected), "{:?} names {expected:?}:\n{}", command, refused.output());
        }
    }
    let after = ns.get("deployment/web");
    assert_eq!(after["metadata"]["generation"], before["metadata"]["generation"], "nothing changed");
    assert_eq!(after["spec"], before["spec"]);
}
