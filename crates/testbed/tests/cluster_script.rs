//! `scripts/cluster` keeps its promises: instances do not collide, a crashed
//! component is reported, and `down` leaves no process and no directory behind.

use rollwatch_testbed::repo_root;
use std::process::Command;

fn cluster(instance: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(repo_root().join("scripts/cluster"))
        .args(args)
        .env("ROLLWATCH_CLUSTER", instance)
        .env("ROLLWATCH_SIM_NODES", "1")
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
