//! Child processes timed in wall-clock milliseconds (the simulator logs Unix milliseconds), and
//! the commands the benchmark runs side by side.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as i64
}

/// How a watcher ended: its exit code and the Unix millisecond it ended at.
#[derive(Debug, Clone)]
pub struct Ended {
    pub code: Option<i32>,
    pub at_ms: i64,
    pub stdout: String,
}

/// Runs a command on a thread and notes when it exits.
pub fn spawn_timed(mut command: Command) -> JoinHandle<Ended> {
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let child: Child = command.spawn().unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    std::thread::spawn(move || {
        let output = child.wait_with_output().expect("wait for child");
        Ended { code: output.status.code(), at_ms: now_ms(), stdout: String::from_utf8_lossy(&output.stdout).into_owned() }
    })
}

pub fn kubectl() -> Command {
    Command::new("kubectl")
}

pub fn rollwatch() -> Command {
    Command::new(std::env::var_os("ROLLWATCH_BIN").map(PathBuf::from).expect("ROLLWATCH_BIN (scripts/bench sets it)"))
}

/// Runs kubectl to the end; panics with its output if it fails.
pub fn kubectl_ok(args: &[&str], input: Option<&str>) -> String {
    let mut command = kubectl();
    command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("kubectl");
    if let Some(text) = input {
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to kubectl");
    }
    let out = child.wait_with_output().expect("kubectl");
    assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The poll loop people write: GET the Deployment every 3 s until replicas = ready = available
/// = updated = spec.replicas (kubectl's numbers), giving up after `timeout`. It cannot tell a
/// failure from slowness, so on a failing rollout it ends only at its timeout (code 1 then).
pub fn poll_loop(namespace: &str, deployment: &str, timeout: Duration) -> JoinHandle<Ended> {
    let (namespace, deployment) = (namespace.to_owned(), deployment.to_owned());
    std::thread::spawn(move || {
        let started = Instant::now();
        loop {
            let out = kubectl()
                .args(["get", "deployment", &deployment, "-n", &namespace, "-o"])
                .arg("jsonpath={.spec.replicas} {.status.replicas} {.status.readyReplicas} {.status.availableReplicas} {.status.updatedReplicas}")
                .output()
                .expect("kubectl");
            let numbers: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap_or("").split(' ').collect();
            if numbers.len() == 5 && !numbers[0].is_empty() && numbers.iter().all(|n| *n == numbers[0]) {
                return Ended { code: Some(0), at_ms: now_ms(), stdout: String::new() };
            }
            if started.elapsed() >= timeout {
                return Ended { code: Some(1), at_ms: now_ms(), stdout: String::new() };
            }
            std::thread::sleep(Duration::from_secs(3));
        }
    })
}
