//! `scripts/cluster` keeps its promises: instances do not collide, a crashed
//! component is reported, and `down` leaves no process and no directory behind — and, after
//! real nodes, the machine as it was.

use rollwatch_testbed::repo_root;
use std::process::Command;

fn cluster(instance: &str, args: &[&str]) -> (bool, String) {
    cluster_with_real_nodes(instance, args, 0)
}

fn cluster_with_real_nodes(instance: &str, args: &[&str], real_nodes: u32) -> (bool, String) {
    let out = Command::new(repo_root().join("scripts/cluster"))
        .args(args)
        .env("ROLLWATCH_CLUSTER", instance)
        .env("ROLLWATCH_SIM_NODES", "1")
        .env("ROLLWATCH_REAL_NODES", real_nodes.to_string())
        .output()
        .expect("scripts/cluster runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Where `scripts/cluster` keeps an instance: its PIDs, data, certificates and logs.
fn instance_dir(instance: &str) -> std::path::PathBuf {
    let state = std::env::var("ROLLWATCH_STATE").unwrap_or_else(|_| format!("{}/rollwatch-clusters", std::env::temp_dir().display()));
    std::path::Path::new(&state).join(instance)
}

fn recorded_pids(instance: &str) -> Vec<u32> {
    let dir = instance_dir(instance).join("pids");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            text.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect()
}

/// Runs `scripts/cluster down` for its instance when dropped, so a failing
/// assertion does not leave a whole control plane running.
struct Instance(String);

impl Drop for Instance {
    fn drop(&mut self) {
        let (ok, text) = cluster(&self.0, &["down"]);
        if !ok {
            eprintln!("scripts/cluster down for {} failed: {text}", self.0);
        }
    }
}

/// A process runs while /proc has it in a state other than zombie.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

#[test]
fn a_second_instance_runs_beside_the_first_reports_a_crash_and_stops_cleanly() {
    let instance = format!("script-test-{}", std::process::id());
    let _down_on_exit = Instance(instance.clone());
    let (ok, text) = cluster(&instance, &["up"]);
    assert!(ok, "{text}");
    let (ok, text) = cluster(&instance, &["up"]);
    assert!(ok && text.contains("already running"), "up on a running instance is a no-op: {text}");

    // Its API server is not the suite's: its own port, its own data.
    let (_, env) = cluster(&instance, &["env"]);
    let kubeconfig = env.trim().strip_prefix("export KUBECONFIG=").expect("env prints an export").to_owned();
    assert_ne!(std::path::PathBuf::from(&kubeconfig), rollwatch_testbed::kubeconfig());
    let nodes = Command::new("kubectl").env("KUBECONFIG", &kubeconfig).args(["get", "nodes", "-o", "name"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&nodes.stdout).lines().count(), 1, "one simulated node, as asked");

    let pids = recorded_pids(&instance);
    assert_eq!(pids.len(), 5, "etcd, three components and the simulator");
    assert!(pids.iter().all(|&p| running(p)));

    // A component that dies is reported, not ignored.
    let scheduler_pid = std::fs::read_to_string(std::path::Path::new(&kubeconfig).parent().unwrap().join("pids/kube-scheduler")).unwrap();
    let scheduler_pid = scheduler_pid.split_whitespace().next().unwrap();
    Command::new("kill").args(["-9", scheduler_pid]).status().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (ok, text) = cluster(&instance, &["status"]);
    assert!(!ok && text.contains("kube-scheduler") && text.contains("EXITED"), "{text}");

    let (ok, text) = cluster(&instance, &["down"]);
    assert!(ok, "{text}");
    let left: Vec<_> = pids.into_iter().filter(|&p| running(p)).collect();
    assert!(left.is_empty(), "processes left after down: {left:?}");
    assert!(!instance_dir(&instance).exists(), "{} left after down", instance_dir(&instance).display());
}

/// `scripts/cluster deb-src` with apt's configuration read from `files` (relative paths in a
/// scratch /etc/apt) instead of the machine's.
fn deb_src_from(files: &[(&str, &str)]) -> (bool, String) {
    let apt = std::env::temp_dir().join(format!("rollwatch-apt-{}-{}", std::process::id(), files.len()));
    let _ = std::fs::remove_dir_all(&apt);
    std::fs::create_dir_all(apt.join("sources.list.d")).unwrap();
    for (name, text) in files {
        std::fs::write(apt.join(name), text).unwrap();
    }
    let out = Command::new(repo_root().join("scripts/cluster")).arg("deb-src").env("ROLLWATCH_APT_ETC", &apt).output().expect("scripts/cluster runs");
    std::fs::remove_dir_all(&apt).unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_source_package_comes_from_the_archive_apt_is_configured_with() {
    // deb822, with a security stanza first and a mirror for the main archive.
    let (ok, entry) = deb_src_from(&[(
        "sources.list.d/debian.sources",
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
         Types: deb\n# a comment\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    )]);
    assert!(ok, "{entry}");
    assert_eq!(
        entry,
        "Types: deb-src\nURIs: http://mirror.test/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    );

    // The one-line format, with options.
    let (ok, entry) =
        deb_src_from(&[("sources.list", "# old style\ndeb [arch=amd64 signed-by=/etc/apt/keys/mirror.gpg] http://proxy.test:3142/debian bookworm main\n")]);
    assert!(ok, "{entry}");
    assert_eq!(entry, "Types: deb-src\nURIs: http://proxy.test:3142/debian\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keys/mirror.gpg\n");

    // No Debian archive at all: said, not guessed.
    let (ok, said) = deb_src_from(&[("sources.list", "deb http://mirror.test/debian bullseye main\n")]);
    assert!(!ok && said.contains("no Debian bookworm archive"), "{said}");
}

/// The parts of the machine that real nodes change (kernel settings, network interfaces, mounts,
/// cgroups, the kubelet's and libcni's directories outside the node's own), one line each, less
/// what belongs to other instances running meanwhile (their interfaces, mounts and cgroups).
fn machine_state(instance: &str) -> Vec<String> {
    let others = |name: &str| name.contains("rollwatch-clusters/") && !name.contains(&format!("rollwatch-clusters/{instance}/"));
    let mut state = Vec::new();
    for setting in [
        "vm/overcommit_memory",
        "vm/panic_on_oom",
        "kernel/panic",
        "kernel/panic_on_oops",
        "kernel/keys/root_maxkeys",
        "kernel/keys/root_maxbytes",
        "net/ipv4/ip_forward",
    ] {
        state.push(format!("sysctl {setting} = {}", std::fs::read_to_string(format!("/proc/sys/{setting}")).unwrap().trim()));
    }
    let tag = instance_tag(instance);
    for entry in std::fs::read_dir("/sys/class/net").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let another_instances = name.len() > 8 && name.starts_with("rw") && !name.starts_with(&format!("rw{tag}"));
        if !another_instances {
            state.push(format!("interface {name}"));
        }
    }
    for line in std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines() {
        let mount_point = line.split(' ').nth(4).unwrap();
        if !others(mount_point) {
            state.push(format!("mount {mount_point}"));
        }
    }
    for line in std::fs::read_to_string("/proc/self/mounts").unwrap().lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields[2] != "cgroup" && fields[2] != "cgroup2" {
            continue;
        }
        for entry in std::fs::read_dir(fields[1]).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let another_instances = name.starts_with("rollwatch-") && !name.starts_with(&format!("rollwatch-{instance}-"));
            if entry.path().is_dir() && !another_instances {
                state.push(format!("cgroup {}/{name}", fields[1]));
            }
        }
    }
    for dir in ["/var/lib/kubelet", "/var/log/pods", "/var/log/containers", "/usr/libexec/kubernetes", "/var/lib/cni", "/etc/cni", "/opt/containerd"] {
        state.push(format!("{dir} exists: {}", std::path::Path::new(dir).exists()));
    }
    state.sort();
    state
}

/// scripts/cluster's instance tag: the first 6 hex digits of the name's SHA-256.
fn instance_tag(instance: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(format!("printf '%s' '{instance}' | sha256sum | cut -c1-6")).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Processes whose command line names `text`.
fn processes_naming(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_err() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(text) && running(name.parse().unwrap()) {
                found.push(format!("{name}: {cmdline}"));
            }
        }
    }
    found
}

/// Named `real_node::...`: scripts/test runs it with the other tests that need a real kubelet.
mod real_node {
    #[test]
    fn runs_a_pod_and_down_restores_the_machine() {
        super::a_real_node_runs_a_pod_and_down_restores_the_machine();
    }
}

fn a_real_node_runs_a_pod_and_down_restores_the_machine() {
    let instance = format!("script-real-{}", std::process::id());
    let before = machine_state(&instance);
    let down_on_exit = Instance(instance.clone());
    let (ok, text) = cluster_with_real_nodes(&instance, &["up"], 1);
    assert!(ok, "{text}");
    let (_, env) = cluster(&instance, &["env"]);
    let kubeconfig = env.trim().strip_prefix("export KUBECONFIG=").expect("env prints an export").to_owned();
    let kubectl = |args: &[&str]| {
        let out = Command::new("kubectl").env("KUBECONFIG", &kubeconfig).args(args).output().unwrap();
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let (_, nodes) = kubectl(&["get", "nodes", "-l", "rollwatch.dev/node=real", "-o", "jsonpath={.items[*].metadata.name}"]);
    assert_eq!(nodes.trim(), "real-node-0", "one real node beside the simulated one");
    let (_, taints) = kubectl(&["get", "node", "real-node-0", "-o", "jsonpath={.spec.taints}"]);
    assert!(taints.contains("rollwatch.dev/node") && !taints.contains("not-ready"), "only its own taint once Ready: {taints}");

    // A pod on it, so that the node's network, mounts and cgroups are really in use.
    let pod = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"}, "spec": {
        "nodeSelector": {"rollwatch.dev/node": "real"},
        "tolerations": [{"key": "rollwatch.dev/node", "operator": "Equal", "value": "real", "effect": "NoSchedule"}],
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "app", "image": "rollwatch.local/busybox:1", "imagePullPolicy": "IfNotPresent",
          "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
          "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1}}]}}"#;
    let mut apply = Command::new("kubectl").env("KUBECONFIG", &kubeconfig).args(["apply", "-f", "-"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut apply.stdin.take().unwrap(), pod.as_bytes()).unwrap();
    assert!(apply.wait().unwrap().success());
    let (ok, text) = kubectl(&["wait", "pod/probe", "--for=condition=Ready", "--timeout=120s"]);
    assert!(ok, "the pod runs on the real node and passes its HTTP probe: {text}");
    let (ok, logs) = kubectl(&["logs", "probe"]);
    assert!(ok, "kubectl logs reaches the kubelet: {logs}");
    let during = machine_state(&instance);
    assert!(during.iter().any(|line| line.starts_with(&format!("interface rw{}b0", instance_tag(&instance)))), "the node's bridge: {during:#?}");
    assert!(during.iter().any(|line| line.starts_with("mount ") && line.contains(&instance)), "the node's mounts: {during:#?}");

    let (ok, text) = cluster(&instance, &["down"]);
    assert!(ok, "{text}");
    drop(down_on_exit);
    let left = processes_naming(&format!("rollwatch-clusters/{instance}/"));
    assert!(left.is_empty(), "processes left after down: {left:#?}");
    assert_eq!(machine_state(&instance), before, "the machine after down (right) as before up (left)");
}
