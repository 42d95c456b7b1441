//! A signal that ends a command at once (outside writing and tracking, or a second one) still
//! leaves the `--timeline` file, with what was recorded and the result "unfinished".

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const VERSION: &str = r#"{"major":"1","minor":"34","gitVersion":"v1.34.0","gitCommit":"0","gitTreeState":"clean","buildDate":"2025-01-01T00:00:00Z","goVersion":"go1.24","compiler":"gc","platform":"linux/amd64"}"#;

/// An API server on loopback (plain HTTP) that answers `GET /version` and holds every other
/// request unanswered, saying on `asked` the request line of each. Runs until the test ends.
fn stalling_server() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tell, asked) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            // One request per connection is enough here: the version is answered with
            // `Connection: close`, anything else is held open.
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|read| read > 0) && header.trim() != "" {
                header.clear();
            }
            if request_line.starts_with("GET /version") {
                let response =
                    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{VERSION}", VERSION.len());
                let _ = stream.write_all(response.as_bytes());
            } else {
                let _ = tell.send(request_line.trim().to_string());
                held.push(stream);
            }
        }
    });
    (port, asked)
}

#[test]
fn a_signal_that_ends_a_command_at_once_still_leaves_its_timeline_unfinished() {
    let (port, asked) = stalling_server();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\n\
             users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: shop}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let html = dir.path().join("run.html");
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web-ready.yaml");
    let child = Command::new(env!("CARGO_BIN_EXE_rollwatch"))
        .args(["apply", "-f", web.to_str().unwrap(), "--timeline", html.to_str().unwrap()])
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Connected, and stalled on what comes after (the kinds' resolution, the dry run): no
    // part of the command handles a signal there, so the first one ends it at once.
    let request = asked.recv_timeout(Duration::from_secs(30)).expect("rollwatch asks the server past /version");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(143), "SIGTERM's code (stalled at {request}): {said}");
    let page = std::fs::read_to_string(&html).unwrap_or_else(|_| panic!("the timeline is written (stalled at {request}): {said}"));
    assert!(page.contains("result: unfinished"), "{page}");
    assert!(said.contains("timeline written to"), "{said}");
}
