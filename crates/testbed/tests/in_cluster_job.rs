//! rollwatch inside the cluster, as Helm and Argo CD hooks run it: the image `scripts/image` builds,
//! imported into a real node's containerd, run as a Job pinned to that node with the least-rights
//! account of `examples/in-cluster/cross-namespace-rbac.yaml`, waiting for a Deployment in another
//! namespace. The Jobs are the examples' own files (`cross-namespace-job.yaml`, and the Argo CD
//! PostSync hook `examples/argocd/postsync-job.yaml`), with the substitutions they name.
//!
//! Needs a cluster with a real node (`ROLLWATCH_REAL_NODES=1 scripts/cluster up`; scripts/test runs
//! this file's `real_node::` tests on its real-node instance) and root, for `ctr`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use rollwatch_testbed::{
    REAL_NODE_KEY, TestNamespace, api_server, deployment, kubeconfig, kubectl_global, kubectl_stdin, manifest_objects, pin_to_real_nodes, repo_root,
    rollwatch_bin, wait_for,
};
use serde_json::{Value, json};

/// The name the image gets in the nodes' containerd: a registry host with a dot, so the kubelet
/// looks it up as it is, and a tag other than `latest`, so `IfNotPresent` is the pull policy.
const IMAGE: &str = "rollwatch.local/rollwatch:test";
/// The namespaces the examples name: rollwatch's own and the watched one.
const EXAMPLE_RUNNER_NAMESPACE: &str = "rollwatch";
const EXAMPLE_WATCHED_NAMESPACE: &str = "shop";

/// The real nodes' names.
fn real_nodes() -> Vec<String> {
    let names = kubectl_global(&["get", "nodes", "-l", &format!("{REAL_NODE_KEY}=real"), "-o", "name"]).ok().stdout;
    let nodes: Vec<String> = names.lines().map(|line| line.trim_start_matches("node/").to_owned()).collect();
    assert!(!nodes.is_empty(), "the cluster under test has no real node: start it with ROLLWATCH_REAL_NODES=1 scripts/cluster up (scripts/test does)");
    nodes
}

/// A real node's containerd socket: scripts/cluster keeps each node's files in the instance's
/// directory (the kubeconfig's), under `nodes/NAME`.
fn containerd_socket(node: &str) -> PathBuf {
    let instance = kubeconfig().parent().expect("the kubeconfig is in the instance's directory").to_path_buf();
    let socket = instance.join("nodes").join(node).join("containerd.sock");
    assert!(socket.exists(), "{} is missing: is {node} a real node of this instance?", socket.display());
    socket
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    assert!(output.status.success(), "{command:?} failed:\n{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Builds the image of this build's rollwatch binary with scripts/image and imports it into every
/// real node's containerd, once for the tests of this file.
fn image_on_real_nodes() -> &'static str {
    static IMPORTED: OnceLock<()> = OnceLock::new();
    IMPORTED.get_or_init(|| {
        let archive = std::env::temp_dir().join(format!("rollwatch-in-cluster-image-{}.tar", std::process::id()));
        run(Command::new(repo_root().join("scripts/image")).arg(&archive).env("ROLLWATCH_BIN", rollwatch_bin()).env("ROLLWATCH_IMAGE_TAG", IMAGE));
        for node in real_nodes() {
            let socket = containerd_socket(&node);
            run(Command::new("ctr").arg("-a").arg(&socket).args(["-n", "k8s.io", "images", "import", "--all-platforms"]).arg(&archive));
            let listed = run(Command::new("ctr").arg("-a").arg(&socket).args(["-n", "k8s.io", "images", "ls", "-q"]));
            assert!(listed.lines().any(|name| name == IMAGE), "{node}: {IMAGE} is not among the imported images:\n{listed}");
        }
        std::fs::remove_file(&archive).expect("remove the image archive");
    });
    IMAGE
}

/// An example file's objects, read by kubectl as JSON.
fn example_objects(path: &str) -> Vec<Value> {
    let file = repo_root().join(path);
    manifest_objects(&std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
}

/// The test's namespaces in place of the examples' (`rollwatch`, `shop`): in the objects'
/// metadata, the RoleBinding's subjects and rollwatch's `-n` argument.
struct Namespaces<'a> {
    runner: &'a TestNamespace,
    watched: &'a TestNamespace,
}

impl Namespaces<'_> {
    fn substitute(&self, value: &mut Value) {
        let replacement = match value.as_str() {
            Some(EXAMPLE_RUNNER_NAMESPACE) => &self.runner.name,
            Some(EXAMPLE_WATCHED_NAMESPACE) => &self.watched.name,
            Some(other) => panic!("the examples name only the namespaces {EXAMPLE_RUNNER_NAMESPACE} and {EXAMPLE_WATCHED_NAMESPACE}, not {other}"),
            None => return,
        };
        *value = json!(replacement);
    }

    /// Applies the example file's objects with the substitutions of `cross-namespace-job.yaml`'s
    /// comment, and returns them as applied.
    fn apply_example(&self, path: &str, image: &str) -> Vec<Value> {
        let mut objects = example_objects(path);
        let (api_host, api_port) = api_server();
        for object in &mut objects {
            self.substitute(&mut object["metadata"]["namespace"]);
            for subject in object["subjects"].as_array_mut().into_iter().flatten() {
                self.substitute(&mut subject["namespace"]);
            }
            let Some(pod) = object.pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) else { continue };
            for container in pod["containers"].as_array_mut().expect("containers") {
                container["image"] = json!(image);
                let args = container["args"].as_array_mut().expect("rollwatch's args");
                let namespace_at = args.iter().position(|arg| arg == "-n").expect("the Job names the watched namespace") + 1;
                self.substitute(&mut args[namespace_at]);
                // The test bed's API server address (no kube-proxy routes the Service's ClusterIP).
                container["env"] = json!([
                    {"name": "KUBERNETES_SERVICE_HOST", "value": api_host},
                    {"name": "KUBERNETES_SERVICE_PORT", "value": api_port.to_string()},
                ]);
            }
            pod.insert("hostNetwork".into(), json!(true));
            pin_to_real_nodes(pod);
        }
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        kubectl_stdin(&["apply", "-f", "-"], &list.to_string()).ok();
        objects
    }
}

/// How the Job ended: its pod's exit code, the node it ran on and its log.
struct JobRun {
    exit_code: i64,
    node: String,
    log: String,
}

/// Waits for the Job `name` of `ns` to succeed or fail (rollwatch's own --timeout is 5 or 10
/// minutes; a failing rollout is reported after the default 60 s --waiting-grace).
fn finished_job(ns: &TestNamespace, name: &str) -> JobRun {
    let selector = format!("job-name={name}");
    let pod = wait_for(&format!("job/{name} in {} to end", ns.name), Duration::from_secs(300), || {
        let pods = ns.kubectl(&["get", "pods", "-l", &selector, "-o", "json"]).ok().json();
        pods["items"].as_array()?.iter().find(|pod| pod["status"]["containerStatuses"][0]["state"]["terminated"].is_object()).cloned()
    });
    let pod_name = pod["metadata"]["name"].as_str().expect("a pod name");
    let log = ns.kubectl(&["logs", pod_name]).ok().stdout;
    JobRun {
        exit_code: pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"].as_i64().expect("an exit code"),
        node: pod["spec"]["nodeName"].as_str().unwrap_or_default().to_owned(),
        log,
    }
}

/// The JSON lines of rollwatch's log (its stderr's plain lines are there too).
fn json_lines(log: &str) -> Vec<Value> {
    log.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()).filter(Value::is_object).collect()
}

/// The Role's rules in a file of examples/in-cluster.
fn role_rules(path: &str) -> Value {
    example_objects(path).into_iter().find(|object| object["kind"] == "Role").expect("a Role")["rules"].clone()
}

/// Named `real_node::...`: scripts/test runs them on its instance with a real node.
mod real_node {
    use super::*;

    #[test]
    fn the_example_job_on_a_real_node_waits_for_a_deployment_in_another_namespace_and_succeeds() {
        assert_eq!(
            role_rules("examples/in-cluster/cross-namespace-rbac.yaml"),
            role_rules("examples/in-cluster/rbac.yaml"),
            "the cross-namespace Role grants what rbac.yaml's does"
        );
        let image = image_on_real_nodes();
        let runner = TestNamespace::new("job-runner");
        let watched = TestNamespace::new("job-shop");
        watched.apply(&deployment("web", 2, "nginx:1.19", "ready", "", "")).ok();
        let namespaces = Namespaces { runner: &runner, watched: &watched };
        namespaces.apply_example("examples/in-cluster/cross-namespace-rbac.yaml", image);
        namespaces.apply_example("examples/in-cluster/cross-namespace-job.yaml", image);

        let job = finished_job(&runner, "rollwatch-web");
        assert!(real_nodes().contains(&job.node), "the Job's pod ran on {}, not on a real node", job.node);
        assert_eq!(job.exit_code, 0, "rollwatch's exit code in the pod; its log:\n{}", job.log);
        let summary = json_lines(&job.log).pop().unwrap_or_else(|| panic!("no JSON in the log:\n{}", job.log));
        assert_eq!(summary["event"], "summary", "{}", job.log);
        assert_eq!(summary["result"], "ready", "{}", job.log);
        let objects = summary["objects"].as_array().expect("the summary's objects");
        assert!(
            objects.iter().any(|o| o["object"]["name"] == "web" && o["object"]["namespace"] == watched.name.as_str() && o["state"] == "Ready"),
            "deployment/web of {} Ready in the summary:\n{}",
            watched.name,
            job.log
        );
        wait_for("the Job's Complete condition", Duration::from_secs(60), || (runner.get("job/rollwatch-web")["status"]["succeeded"] == 1).then_some(()));
    }

    #[test]
    fn the_argocd_postsync_hook_job_fails_with_the_reason_when_the_rollout_fails() {
        let image = image_on_real_nodes();
        let runner = TestNamespace::new("hook-runner");
        let watched = TestNamespace::new("hook-shop");
        // On the simulator's nodes: an image that cannot be pulled, with the label Argo CD gives
        // an application's objects.
        let failing = deployment("web", 1, "registry.invalid/app:does-not-exist", "ready", "", "")
            .replace("metadata: {name: web, labels: {app: web}}", "metadata: {name: web, labels: {app: web, app.kubernetes.io/instance: web}}");
        assert!(failing.contains("app.kubernetes.io/instance"), "the label was added:\n{failing}");
        watched.apply(&failing).ok();
        let namespaces = Namespaces { runner: &runner, watched: &watched };
        namespaces.apply_example("examples/in-cluster/cross-namespace-rbac.yaml", image);
        namespaces.apply_example("examples/argocd/postsync-job.yaml", image);

        let job = finished_job(&runner, "rollwatch-postsync");
        assert!(real_nodes().contains(&job.node), "the Job's pod ran on {}, not on a real node", job.node);
        assert_eq!(job.exit_code, 1, "a failed rollout is exit 1; the log:\n{}", job.log);
        let summary = json_lines(&job.log).pop().unwrap_or_else(|| panic!("no JSON in the log:\n{}", job.log));
        assert_eq!(summary["result"], "failed", "{}", job.log);
        assert!(job.log.contains("ErrImagePull") || job.log.contains("ImagePullBackOff"), "the reason in the hook's log:\n{}", job.log);
        assert!(job.log.contains("does-not-exist"), "the image named in the hook's log:\n{}", job.log);
        wait_for("the Job's Failed condition", Duration::from_secs(60), || (runner.get("job/rollwatch-postsync")["status"]["failed"] == 1).then_some(()));
    }
}
