//! Harness for tests that run against the local control plane started by
//! `scripts/cluster` (real etcd, kube-apiserver, controller manager and
//! scheduler, with `rollwatch-sim` playing the nodes).
//!
//! `scripts/test` starts a fresh instance and passes its kubeconfig in
//! `ROLLWATCH_TEST_KUBECONFIG`. Each test works in a namespace of its own
//! ([`TestNamespace`]), so tests run in parallel on one cluster, and drives
//! the cluster with the real `kubectl`, as a user would.

pub mod proxy;

pub use proxy::{ApiProxy, ProxyCounts};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The kubeconfig of the cluster under test; panics with a way out when the
/// suite was started without one, so a missing cluster never looks like a pass.
pub fn kubeconfig() -> PathBuf {
    match std::env::var_os("ROLLWATCH_TEST_KUBECONFIG") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "ROLLWATCH_TEST_KUBECONFIG is not set: run the cluster tests with scripts/test, \
             which starts the local control plane (or `scripts/cluster up` and export \
             ROLLWATCH_TEST_KUBECONFIG=<its kubeconfig>)"
        ),
    }
}

/// The repository root, for scripts and examples.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// The result of one `kubectl` run, with what it printed.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Panics with the command's output unless it succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(self.success, "command failed ({:?}):\nstdout: {}\nstderr: {}", self.code, self.stdout, self.stderr);
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// Everything the command printed, stdout then stderr.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Standard output read as JSON lines.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
            .collect()
    }
}

/// The `rollwatch` binary of this build (`target/<profile>/rollwatch`, next to the test's own
/// `deps/` directory). `cargo test --workspace` builds it (the cli package has integration
/// tests); when running only the testbed, build it first with `cargo build -p rollwatch`.
pub fn rollwatch_bin() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("rollwatch");
    assert!(bin.is_file(), "{} is missing: build it with `cargo build -p rollwatch`", bin.display());
    bin
}

/// Runs `rollwatch` against the cluster under test.
pub fn rollwatch(args: &[&str]) -> Run {
    rollwatch_with(&kubeconfig(), args, None)
}

/// Starts `rollwatch ARGS` against the cluster of `kubeconfig` without waiting for it.
pub fn spawn_rollwatch_with(kubeconfig: &Path, args: &[&str]) -> Background {
    Background::spawn(Command::new(rollwatch_bin()).env("KUBECONFIG", kubeconfig).args(args))
}

/// Runs `rollwatch` against the cluster of `kubeconfig`, with `input` on its standard input.
pub fn rollwatch_with(kubeconfig: &Path, args: &[&str], input: Option<&str>) -> Run {
    let mut command = Command::new(rollwatch_bin());
    command.env("KUBECONFIG", kubeconfig).args(args);
    run_with_input(command, input.unwrap_or_default())
}

/// Runs `command` to its end with `input` on its standard input (closed after it), capturing
/// what it prints.
fn run_with_input(mut command: Command, input: &str) -> Run {
    use std::io::Write;
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write standard input");
    child.wait_with_output().expect("command finishes").into()
}

/// A Deployment of `replicas` pods whose container `app` behaves as `behavior`
/// (crates/sim/README.md), with extra lines for the container (at its indentation) and the spec.
pub fn deployment(name: &str, replicas: u32, image: &str, behavior: &str, container_extra: &str, spec_extra: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  {spec_extra}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{sim.rollwatch.dev/behavior: '{behavior}'}}
    spec:
      containers:
      - name: app
        image: {image}
        {container_extra}
"#
    )
}

/// The label and taint of the test bed's real nodes (scripts/cluster): pods land on a real node
/// only with the node selector and toleration of [`pin_to_real_nodes`].
pub const REAL_NODE_KEY: &str = "rollwatch.dev/node";

/// Where a scenario of `crates/testbed/scenarios/` runs: on the simulator's nodes or on a real
/// node (a kubelet with containerd and runc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    Simulated,
    Real,
}

impl World {
    /// As namespaces and reports name it.
    pub fn label(self) -> &'static str {
        match self {
            World::Simulated => "sim",
            World::Real => "real",
        }
    }
}

/// The text of scenario `file` (crates/testbed/scenarios), with the image's second tag for an update.
pub fn scenario(file: &str, update: bool) -> String {
    let path = repo_root().join("crates/testbed/scenarios").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if update { text.replace("rollwatch.local/busybox:1", "rollwatch.local/busybox:2") } else { text }
}

/// The node selector and toleration that put a pod on the test bed's real nodes.
pub fn pin_to_real_nodes(pod_spec: &mut serde_json::Map<String, Value>) {
    pod_spec.insert("nodeSelector".into(), serde_json::json!({REAL_NODE_KEY: "real"}));
    pod_spec.insert("tolerations".into(), serde_json::json!([{"key": REAL_NODE_KEY, "operator": "Equal", "value": "real", "effect": "NoSchedule"}]));
}

/// A manifest's objects as kubectl reads them (YAML or JSON, Lists unpacked).
pub fn manifest_objects(manifest: &str) -> Vec<Value> {
    let json = kubectl_stdin(&["create", "--dry-run=client", "-o", "json", "-f", "-"], manifest).ok();
    let mut objects = Vec::new();
    for value in serde_json::Deserializer::from_str(&json.stdout).into_iter::<Value>() {
        let value = value.expect("kubectl prints JSON");
        match value["kind"].as_str() {
            Some("List") => objects.extend(value["items"].as_array().cloned().unwrap_or_default()),
            _ => objects.push(value),
        }
    }
    objects
}

/// The manifest for `world`: as written for the simulator; for a real node, every pod template
/// pinned to the real nodes (the manifest is read by kubectl, as JSON, without the namespace
/// kubectl fills in: the caller's `-n` gives it).
pub fn placed(manifest: &str, world: World) -> String {
    if world == World::Simulated {
        return manifest.to_owned();
    }
    let mut objects = manifest_objects(manifest);
    for object in &mut objects {
        if let Some(metadata) = object["metadata"].as_object_mut() {
            metadata.remove("namespace");
        }
        if let Some(pod) = object.pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
            pin_to_real_nodes(pod);
        }
    }
    objects.iter().map(Value::to_string).collect::<Vec<_>>().join("\n---\n")
}

/// A namespace that exists for one test and is deleted when it is dropped.
pub struct TestNamespace {
    pub name: String,
}

impl TestNamespace {
    /// Creates `rw-PREFIX-XXXXXX`; the suffix keeps reruns on one cluster apart.
    pub fn new(prefix: &str) -> Self {
        let suffix = format!("{:06x}", (std::process::id() ^ nanos()) & 0xff_ffff);
        let name = format!("rw-{prefix}-{suffix}");
        kubectl_global(&["create", "namespace", &name]).ok();
        wait_for(&format!("service account default in {name}"), Duration::from_secs(30), || {
            kubectl_global(&["-n", &name, "get", "serviceaccount", "default"]).success.then_some(())
        });
        TestNamespace { name }
    }

    /// Runs kubectl in this namespace.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        kubectl_global(&all)
    }

    /// `kubectl apply -f -` with the given manifest text.
    pub fn apply(&self, manifest: &str) -> Run {
        kubectl_stdin(&["-n", &self.name, "apply", "-f", "-"], manifest)
    }

    /// Runs rollwatch in this namespace (`-n NAME ARGS...`).
    pub fn rollwatch(&self, args: &[&str]) -> Run {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        rollwatch(&all)
    }

    /// Runs rollwatch in this namespace with `input` on its standard input (for `-f -`).
    pub fn rollwatch_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        rollwatch_with(&kubeconfig(), &all, Some(input))
    }

    /// `rollwatch apply -f - -o json ARGS` of `manifest`, which must end with exit 1 (a failed
    /// rollout): the run and its summary line.
    pub fn apply_failing(&self, manifest: &str, args: &[&str]) -> (Run, Value) {
        let mut all = vec!["apply", "-f", "-", "-o", "json"];
        all.extend_from_slice(args);
        let run = self.rollwatch_stdin(&all, manifest);
        assert_eq!(run.code, Some(1), "exit code 1, a failed rollout:\n{}", run.output());
        let summary = run.json_lines().pop().expect("a summary line");
        assert_eq!(summary["event"], "summary", "{}", run.stdout);
        (run, summary)
    }

    /// Starts rollwatch in this namespace without waiting for it.
    pub fn spawn_rollwatch(&self, args: &[&str]) -> Background {
        let mut command = Command::new(rollwatch_bin());
        command.env("KUBECONFIG", kubeconfig()).arg("-n").arg(&self.name).args(args);
        Background::spawn(&mut command)
    }

    /// `kubectl get KIND/NAME -o json`, parsed.
    pub fn get(&self, what: &str) -> Value {
        self.kubectl(&["get", what, "-o", "json"]).ok().json()
    }

    /// Warning and normal events in the namespace, as `(reason, object name, message)`.
    pub fn events(&self) -> Vec<(String, String, String)> {
        let list = self.kubectl(&["get", "events", "-o", "json"]).ok().json();
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                (s(&e["reason"]), s(&e["involvedObject"]["name"]), s(&e["message"]))
            })
            .collect()
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let _ = kubectl_global(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

fn kubectl_command(args: &[&str]) -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.env("KUBECONFIG", kubeconfig()).args(args);
    cmd
}

/// Runs kubectl against the cluster under test (no namespace implied).
pub fn kubectl_global(args: &[&str]) -> Run {
    kubectl_command(args).output().expect("kubectl runs").into()
}

/// Runs kubectl with `input` on its standard input.
pub fn kubectl_stdin(args: &[&str], input: &str) -> Run {
    run_with_input(kubectl_command(args), input)
}

/// Polls `probe` every 250 ms until it yields a value; panics after `timeout`
/// naming what was awaited. The cluster is real, so things take real time.
#[track_caller]
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A control plane of a test's own, for tests that restart its components or count its
/// connections; `scripts/cluster down` runs when it is dropped, also after a failed assertion.
///
/// The simulator is `$ROLLWATCH_SIM_BIN` if set, else the release build that `scripts/test`
/// makes (`target/release/rollwatch-sim`), so no cargo build runs inside a test.
pub struct PrivateCluster {
    pub instance: String,
    pub kubeconfig: PathBuf,
}

impl PrivateCluster {
    /// Starts instance `NAME-<pid>` with `nodes` simulated nodes; panics with its output if it
    /// does not come up.
    pub fn start(name: &str, nodes: u32) -> Self {
        let instance = format!("{name}-{}", std::process::id());
        let mut cluster = PrivateCluster { instance, kubeconfig: PathBuf::new() };
        let up = cluster.script(&["up"], nodes);
        assert!(up.success, "scripts/cluster up failed:\n{}{}", up.stdout, up.stderr);
        let env = cluster.script(&["env"], nodes).ok();
        let path = env.stdout.trim().strip_prefix("export KUBECONFIG=").expect("`env` prints an export");
        cluster.kubeconfig = PathBuf::from(path);
        cluster
    }

    fn script(&self, args: &[&str], nodes: u32) -> Run {
        let mut command = Command::new(repo_root().join("scripts/cluster"));
        command.args(args).env("ROLLWATCH_CLUSTER", &self.instance).env("ROLLWATCH_SIM_NODES", nodes.to_string());
        let release_sim = repo_root().join("target/release/rollwatch-sim");
        if std::env::var_os("ROLLWATCH_SIM_BIN").is_none() && release_sim.is_file() {
            command.env("ROLLWATCH_SIM_BIN", release_sim);
        }
        command.output().expect("scripts/cluster runs").into()
    }

    /// `scripts/cluster ARGS` for this instance (e.g. `restart kube-apiserver`).
    pub fn cluster(&self, args: &[&str]) -> Run {
        self.script(args, 0)
    }

    /// kubectl against this instance.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        Command::new("kubectl").env("KUBECONFIG", &self.kubeconfig).args(args).output().expect("kubectl runs").into()
    }

    /// kubectl against this instance with `input` on its standard input.
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut command = Command::new("kubectl");
        command.env("KUBECONFIG", &self.kubeconfig).args(args);
        run_with_input(command, input)
    }

    /// Starts `rollwatch ARGS` against this instance without waiting for it.
    pub fn spawn_rollwatch(&self, args: &[&str]) -> Background {
        Background::spawn(Command::new(rollwatch_bin()).env("KUBECONFIG", &self.kubeconfig).args(args))
    }
}

/// A command running in the background whose output is collected as it comes (a full pipe
/// would block it); killed if dropped before it finished.
pub struct Background {
    child: std::process::Child,
    /// Standard output so far, readable while it runs.
    stdout_so_far: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    stdout: Option<std::thread::JoinHandle<()>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Background {
    fn spawn(command: &mut Command) -> Self {
        use std::io::Read;
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the command runs");
        let stdout_so_far = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut pipe = child.stdout.take().expect("stdout");
        let collected = stdout_so_far.clone();
        let stdout = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                collected.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        });
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        });
        Background { child, stdout_so_far, stdout: Some(stdout), stderr: Some(stderr) }
    }

    /// Waits until its standard output so far contains `text`; panics after `limit`.
    #[track_caller]
    pub fn wait_for_stdout(&self, text: &str, limit: Duration) {
        wait_for(&format!("{text:?} on its standard output"), limit, || {
            String::from_utf8_lossy(&self.stdout_so_far.lock().unwrap()).contains(text).then_some(())
        });
    }

    /// Sends it a signal by name (`INT` is a terminal's Ctrl-C).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().expect("kill runs");
        assert!(sent.success(), "kill -{name} {} failed", self.child.id());
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("the command's status").is_some()
    }

    /// Waits for it to exit, killing it after `limit` (its exit code is then `None`).
    pub fn finish(mut self, limit: Duration) -> Run {
        let deadline = Instant::now() + limit;
        while !self.exited() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let status = self.child.wait().expect("the command's status");
        if let Some(reader) = self.stdout.take() {
            let _ = reader.join();
        }
        let stdout = String::from_utf8_lossy(&self.stdout_so_far.lock().unwrap()).into_owned();
        let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        Run { success: status.success(), code: status.code(), stdout, stderr }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let down = self.script(&["down"], 0);
        if !down.success {
            eprintln!("scripts/cluster down for {} failed: {}{}", self.instance, down.stdout, down.stderr);
        }
    }
}

/// Where the API server of the cluster under test listens, from its kubeconfig.
pub fn api_server() -> (String, u16) {
    let server = kubectl_global(&["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"]).ok().stdout;
    let authority = server.trim().trim_start_matches("https://").trim_end_matches('/');
    let (host, port) = authority.rsplit_once(':').expect("the server URL has a port");
    (host.to_string(), port.parse().expect("a port number"))
}

/// What the kubelet mounts into a pod running as a service account: its token, the cluster's
/// CA certificate and the namespace (v1.20's token controller writes them into the account's
/// token Secret, which the kubelet mounts as is).
pub struct ServiceAccountMount {
    pub token: String,
    pub ca_crt: String,
    pub namespace: String,
}

impl TestNamespace {
    /// The mount of service account `name` of this namespace, once its token Secret exists.
    pub fn service_account_mount(&self, name: &str) -> ServiceAccountMount {
        let secret = wait_for(&format!("the token Secret of service account {name}"), Duration::from_secs(60), || {
            let secret = self.kubectl(&["get", "serviceaccount", name, "-o", "jsonpath={.secrets[0].name}"]).stdout;
            (!secret.is_empty()).then_some(secret)
        });
        let key = |key: &str| self.kubectl(&["get", "secret", &secret, "-o", &format!("go-template={{{{index .data \"{key}\" | base64decode}}}}")]).ok().stdout;
        ServiceAccountMount { token: key("token"), ca_crt: key("ca.crt"), namespace: key("namespace") }
    }
}

/// Runs rollwatch as it runs in a pod: in a mount namespace of its own (`unshare -m`, so the
/// machine's `/run` is untouched) with `mount` at /var/run/secrets/kubernetes.io/serviceaccount,
/// the API server at `KUBERNETES_SERVICE_HOST`/`PORT`, no `KUBECONFIG` and a home without
/// `.kube`; the environment is only `PATH`, those and `vars`.
pub fn rollwatch_in_pod(mount: &ServiceAccountMount, vars: &[(&str, &str)], args: &[&str]) -> Run {
    in_pod(mount, vars, None, &rollwatch_bin(), args)
}

/// Runs `program` with `args` as [`rollwatch_in_pod`] runs rollwatch (a CI job's script in a
/// runner's pod), in `dir` if given; `vars` may replace `PATH`.
pub fn in_pod(mount: &ServiceAccountMount, vars: &[(&str, &str)], dir: Option<&Path>, program: &Path, args: &[&str]) -> Run {
    let stage = std::env::temp_dir().join(format!("rollwatch-pod-{}-{}", std::process::id(), nanos()));
    std::fs::create_dir_all(stage.join("home")).unwrap();
    std::fs::write(stage.join("token"), &mount.token).unwrap();
    std::fs::write(stage.join("ca.crt"), &mount.ca_crt).unwrap();
    std::fs::write(stage.join("namespace"), &mount.namespace).unwrap();
    const AS_IN_A_POD: &str = r#"set -e
stage=$1 program=$2; shift 2
mount -t tmpfs -o size=1m tmpfs /run
dir=/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$dir"
cp "$stage/token" "$stage/ca.crt" "$stage/namespace" "$dir/"
exec "$program" "$@""#;
    let (host, port) = api_server();
    let mut command = Command::new("unshare");
    command
        .args(["-m", "sh", "-c", AS_IN_A_POD, "sh"])
        .arg(&stage)
        .arg(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", stage.join("home"))
        .env("KUBERNETES_SERVICE_HOST", host)
        .env("KUBERNETES_SERVICE_PORT", port.to_string())
        .envs(vars.iter().copied());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let run = run_with_input(command, "");
    let _ = std::fs::remove_dir_all(&stage);
    run
}

/// A proxy on loopback — HTTP CONNECT or SOCKS5 — that counts the tunnels it opened, for tests
/// of rollwatch behind a proxy. Like a company proxy it resolves names the client cannot: a
/// tunnel to a host in `names` goes to its address instead. It serves until the test process ends.
pub struct ConnectProxy {
    pub url: String,
    connects: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ConnectProxy {
    /// An HTTP proxy (`http://127.0.0.1:PORT`) that tunnels with CONNECT.
    pub fn start(names: &[(&str, &str)]) -> Self {
        Self::serve("http", names, read_connect, b"HTTP/1.1 200 Connection established\r\n\r\n")
    }

    /// A SOCKS5 proxy (`socks5://127.0.0.1:PORT`), without authentication.
    pub fn start_socks5(names: &[(&str, &str)]) -> Self {
        Self::serve("socks5", names, read_socks5_connect, &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    }

    fn serve(scheme: &str, names: &[(&str, &str)], read: fn(&std::net::TcpStream) -> Option<(String, String)>, established: &'static [u8]) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let names: std::collections::HashMap<String, String> = names.iter().map(|(name, address)| (name.to_string(), address.to_string())).collect();
        let connects = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = connects.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let target = match read(&client) {
                    Some((host, port)) => format!("{}:{port}", names.get(&host).unwrap_or(&host)),
                    None => continue,
                };
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || tunnel(client, &target, established));
            }
        });
        ConnectProxy { url, connects }
    }

    /// How many tunnels were asked for so far.
    pub fn connects(&self) -> usize {
        self.connects.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The `host` and `port` of a `CONNECT host:port HTTP/1.1` request head, read to its end.
fn read_connect(mut client: &std::net::TcpStream) -> Option<(String, String)> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if client.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let authority = head.strip_prefix("CONNECT ")?.split(' ').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    Some((host.to_string(), port.to_string()))
}

/// The host and port of a SOCKS5 CONNECT request (RFC 1928), after answering its greeting with
/// "no authentication".
fn read_socks5_connect(mut client: &std::net::TcpStream) -> Option<(String, String)> {
    use std::io::{Read, Write};
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting).ok()?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    client.read_exact(&mut methods).ok()?;
    client.write_all(&[5, 0]).ok()?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).ok()?;
    if request[..2] != [5, 1] {
        return None;
    }
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut length = [0u8; 1];
            client.read_exact(&mut length).ok()?;
            let mut name = vec![0u8; usize::from(length[0])];
            client.read_exact(&mut name).ok()?;
            String::from_utf8(name).ok()?
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).ok()?;
    Some((host, u16::from_be_bytes(port).to_string()))
}

/// Answers the tunnel request with `established` and copies bytes both ways until either side
/// closes.
fn tunnel(mut client: std::net::TcpStream, target: &str, established: &[u8]) {
    use std::io::Write;
    let Ok(mut server) = std::net::TcpStream::connect(target) else {
        return;
    };
    if client.write_all(established).is_err() {
        return;
    }
    let (Ok(mut client_reader), Ok(mut server_writer)) = (client.try_clone(), server.try_clone()) else { return };
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = upstream.join();
}
