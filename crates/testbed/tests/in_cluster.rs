//! rollwatch where pipelines run: in a pod with nothing but its service account, bound to the
//! least-rights Role of `examples/in-cluster/rbac.yaml`; with kubectl's connection flags instead
//! of a kubeconfig; and behind an HTTP CONNECT proxy.

use std::time::Duration;

use rollwatch_testbed::{ConnectProxy, Run, TestNamespace, api_server, deployment, repo_root, rollwatch_bin, rollwatch_in_pod, wait_for};

/// The example's ServiceAccount, Role and RoleBinding in `ns`.
fn least_rights_account(ns: &TestNamespace) {
    let rbac = repo_root().join("examples/in-cluster/rbac.yaml");
    ns.kubectl(&["apply", "-f", rbac.to_str().unwrap()]).ok();
}

/// Removes the Role's rule for exactly `resources` (as written in the example).
fn remove_rule(ns: &TestNamespace, resources: &[&str]) {
    let role = ns.get("role/rollwatch");
    let index = role["rules"].as_array().unwrap().iter().position(|rule| rule["resources"] == serde_json::json!(resources)).expect("the example has that rule");
    ns.kubectl(&["patch", "role", "rollwatch", "--type=json", "-p", &format!(r#"[{{"op":"remove","path":"/rules/{index}"}}]"#)]).ok();
}

#[test]
fn in_a_pod_the_service_account_with_the_example_role_is_enough() {
    let ns = TestNamespace::new("in-pod");
    ns.apply(&deployment("web", 2, "nginx:1.19", "ready", "", "")).ok();
    ns.apply(&deployment("crasher", 1, "nginx:1.19", r#"crash exit=3 after=1s log="config is missing""#, "", "")).ok();
    least_rights_account(&ns);
    let mount = ns.service_account_mount("rollwatch");

    // No kubeconfig, no -n: the pod's service account, its namespace, the CA it was given.
    let ready = rollwatch_in_pod(&mount, &[], &["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0", "-o", "json"]);
    assert_eq!(ready.code, Some(0), "{}", ready.output());
    let last = ready.json_lines().pop().expect("a summary");
    assert!(last.to_string().contains(&ns.name), "the pod's namespace: {last}");

    // A failure is explained with the container's log: the Role's pods/log rule.
    let failed = rollwatch_in_pod(&mount, &[], &["wait", "deployment/crasher", "--timeout", "2m", "--allowed-restarts", "0"]);
    assert_eq!(failed.code, Some(1), "{}", failed.output());
    assert!(failed.output().contains("config is missing"), "the log line in the explanation:\n{}", failed.output());
    // Nothing else is denied: the optional reads outside the namespace (the Nodes, the
    // autoscaler's ConfigMap) are made only for a pod that cannot be scheduled, and then each
    // denial is said once; the pod's state and its log are read.
    let output = failed.output();
    let denied: Vec<&str> = output.lines().filter(|line| line.contains("forbidden")).collect();
    assert!(denied.iter().all(|line| line.contains("nodes is forbidden") || line.contains("cluster-autoscaler-status")), "{output}");
    assert!(denied.len() <= 2, "{output}");
}

/// Runs rollwatch with the connection flags alone: no kubeconfig anywhere.
fn rollwatch_with_flags(flags: &[&str], args: &[&str]) -> Run {
    let home = std::env::temp_dir().join(format!("rollwatch-flags-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let output = std::process::Command::new(rollwatch_bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .args(flags)
        .args(args)
        .output()
        .expect("rollwatch runs");
    output.into()
}

#[test]
fn with_token_and_server_flags_a_missing_rule_is_exit_4_naming_the_permission() {
    let ns = TestNamespace::new("flags");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    least_rights_account(&ns);
    let mount = ns.service_account_mount("rollwatch");
    let ca = std::env::temp_dir().join(format!("rollwatch-{}-ca.crt", ns.name));
    std::fs::write(&ca, &mount.ca_crt).unwrap();
    let (host, port) = api_server();
    let server = format!("https://{host}:{port}");
    let flags = ["--server", &server, "--token", &mount.token, "--certificate-authority", ca.to_str().unwrap(), "-n", &ns.name];

    let ready = rollwatch_with_flags(&flags, &["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0"]);
    assert_eq!(ready.code, Some(0), "{}", ready.output());

    remove_rule(&ns, &["pods"]);
    let denied = wait_for("the Role change to take effect", Duration::from_secs(30), || {
        let run = rollwatch_with_flags(&flags, &["wait", "deployment/web", "--timeout", "1m", "--stable-for", "0"]);
        (run.code != Some(0)).then_some(run)
    });
    std::fs::remove_file(&ca).unwrap();
    assert_eq!(denied.code, Some(4), "{}", denied.output());
    let said = denied.output();
    assert!(said.contains(r#"cannot list resource "pods""#) && said.contains(&format!("system:serviceaccount:{}:rollwatch", ns.name)), "{said}");
}

#[test]
fn as_impersonates_like_kubectl() {
    let ns = TestNamespace::new("as");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    least_rights_account(&ns);
    let account = format!("system:serviceaccount:{}:rollwatch", ns.name);
    let ready = ns.rollwatch(&["--as", &account, "wait", "deployment/web", "--timeout", "2m", "--stable-for", "0"]);
    assert_eq!(ready.code, Some(0), "{}", ready.output());
    let nobody = ns.rollwatch(&["--as", "nobody", "--as-group", "no-rights", "wait", "deployment/web", "--timeout", "1m"]);
    assert_eq!(nobody.code, Some(4), "{}", nobody.output());
    assert!(nobody.output().contains(r#"User "nobody" cannot list"#), "{}", nobody.output());
}

#[test]
fn behind_a_proxy_the_api_server_is_reached_through_connect_unless_no_proxy_covers_it() {
    let ns = TestNamespace::new("proxy");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    least_rights_account(&ns);
    let mount = ns.service_account_mount("rollwatch");
    // The API server by a name its certificate holds, which only the proxy can resolve (as a
    // company proxy resolves internal names); loopback addresses are never proxied, as in kubectl.
    let proxy = ConnectProxy::start(&[("kubernetes.default.svc", "127.0.0.1")]);
    let by_name = [("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc"), ("HTTPS_PROXY", proxy.url.as_str())];

    let proxied = rollwatch_in_pod(&mount, &by_name, &["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0"]);
    assert_eq!(proxied.code, Some(0), "{}", proxied.output());
    let tunnels = proxy.connects();
    assert!(tunnels >= 1, "no CONNECT reached the proxy");

    // NO_PROXY covers the server: no CONNECT, a direct connection that cannot resolve the name,
    // which is a connection error: exit 4.
    let direct = rollwatch_in_pod(&mount, &[by_name[0], by_name[1], ("NO_PROXY", "localhost,.svc")], &["wait", "deployment/web", "--timeout", "1m"]);
    assert_eq!(proxy.connects(), tunnels, "NO_PROXY covers the server: {}", direct.output());
    assert_eq!(direct.code, Some(4), "{}", direct.output());
}

#[test]
fn behind_a_socks5_proxy_the_api_server_is_reached_through_it() {
    let ns = TestNamespace::new("socks");
    ns.apply(&deployment("web", 1, "nginx:1.19", "ready", "", "")).ok();
    least_rights_account(&ns);
    let mount = ns.service_account_mount("rollwatch");
    let proxy = ConnectProxy::start_socks5(&[("kubernetes.default.svc", "127.0.0.1")]);
    let vars = [("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc"), ("HTTPS_PROXY", proxy.url.as_str())];
    let run = rollwatch_in_pod(&mount, &vars, &["wait", "deployment/web", "--timeout", "2m", "--stable-for", "0"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(proxy.connects() >= 1, "no tunnel through the SOCKS5 proxy");
}
