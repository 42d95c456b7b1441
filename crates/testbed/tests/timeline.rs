//! The timeline picture of a real rollout, rendered by a real browser: a Deployment that rolls
//! out slowly (slow image pulls) beside one that crash-loops, tracked by
//! `rollwatch apply --timeline`; headless Chromium (Debian's `chromium`, which `scripts/cluster
//! build` installs) loads the file without network, takes a screenshot and dumps the DOM it
//! parsed, which must hold one lane per pod the JSON lines name, a mark per restart and per
//! warning event they report, and the predicted waves.

use std::path::Path;
use std::process::Command;

use rollwatch_testbed::TestNamespace;
use serde_json::Value;

/// Updated one pod at a time, each pulling its image for 4 s, four times the model's assumed
/// start: waves slower than predicted.
fn slow(image: &str) -> String {
    rollwatch_testbed::deployment(
        "slow",
        3,
        image,
        "ready pull=4s",
        "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 1, periodSeconds: 1}",
        "strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
    )
}

/// Crashes a second after each start, restarted after a 1 s back-off: a crash loop.
fn crasher() -> String {
    rollwatch_testbed::deployment(
        "crasher",
        2,
        "busybox:1.36",
        "crash exit=3 after=1s backoff=1s",
        "readinessProbe: {exec: {command: [\"true\"]}, initialDelaySeconds: 5, periodSeconds: 1}",
        "",
    )
}

/// Headless Chromium on `page`, as root without its sandbox, with a profile of its own and every
/// host name unresolvable: `args` added (`--screenshot=...`, `--dump-dom`). Its standard output
/// and error.
fn chromium(page: &Path, profile: &Path, args: &[&str]) -> (String, String) {
    let output = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--host-resolver-rules=MAP * ~NOTFOUND"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("chromium does not start ({e}): `scripts/cluster build` installs Debian's chromium"));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "chromium failed ({:?}):\n{stderr}", output.status.code());
    (stdout, stderr)
}

/// The JSON lines of `event`.
fn lines_of<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|line| line["event"] == event).collect()
}

#[test]
fn a_crash_loop_and_a_slow_wave_are_drawn_and_render_in_a_browser() {
    let ns = TestNamespace::new("timeline");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("rollout.html");
    // The slow Deployment's first version, so that the tracked run is an update, in waves.
    ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &slow("busybox:1.35")).ok();
    let manifest = format!("{}\n---\n{}", slow("busybox:1.36"), crasher());
    let (run, summary) = ns.apply_failing(&manifest, &["--wait-all", "--readiness-grace", "5s", "--timeout", "3m", "--timeline", page.to_str().unwrap()]);
    assert!(run.stderr.contains("timeline written to"), "{}", run.stderr);
    let objects = summary["objects"].as_array().unwrap();
    let state = |name: &str| objects.iter().find(|o| o["object"]["name"] == name).map(|o| o["state"].clone());
    assert_eq!((state("slow"), state("crasher")), (Some("Ready".into()), Some("Failed".into())), "{summary:#}");

    // What the JSON lines report, which the picture must show.
    let lines = run.json_lines();
    let pod_lines = lines_of(&lines, "pod");
    let mut pods: Vec<&str> = pod_lines.iter().map(|line| line["object"]["name"].as_str().unwrap()).collect();
    pods.sort();
    pods.dedup();
    assert_eq!(pods.iter().filter(|p| p.starts_with("slow-")).count(), 6, "three old pods replaced by three new: {pods:?}");
    assert_eq!(pods.iter().filter(|p| p.starts_with("crasher-")).count(), 2, "{pods:?}");
    let states: Vec<&str> = pod_lines.iter().filter(|l| l["workload"]["name"] == "crasher").map(|l| l["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"crash_looping"), "{states:?}");
    let slow_states: Vec<&str> = pod_lines.iter().filter(|l| l["workload"]["name"] == "slow").map(|l| l["state"].as_str().unwrap()).collect();
    for state in ["pulling", "ready", "deleted"] {
        assert!(slow_states.contains(&state), "{state}: {slow_states:?}");
    }
    // Each time a pod's restart count grew: one mark each.
    let mut restarts = 0;
    for pod in &pods {
        let mut seen = 0;
        for line in pod_lines.iter().filter(|l| l["object"]["name"] == *pod) {
            let count = line["restarts"].as_u64().unwrap();
            restarts += u64::from(count > seen);
            seen = seen.max(count);
        }
    }
    assert!(restarts >= 2, "the crash loop restarted its containers: {restarts}");
    let warnings = lines_of(&lines, "warning_event").len();
    assert!(warnings >= 1, "the crash loop's BackOff events:\n{}", run.stdout);
    let mut revisions: Vec<&str> = pod_lines.iter().filter(|l| l["workload"]["name"] == "slow").map(|l| l["revision"].as_str().unwrap()).collect();
    revisions.sort();
    revisions.dedup();
    assert_eq!(revisions.len(), 2, "the old and the new revision's pods: {revisions:?}");
    let planned = lines_of(&lines, "planned_waves");
    assert_eq!(planned.len(), 2, "one estimate per rollout");
    let slow_plan = planned.iter().find(|l| l["workload"]["name"] == "slow").expect("the slow rollout's waves");
    let waves: u64 = slow_plan["estimate"]["waves"].as_array().unwrap().iter().map(|w| w["count"].as_u64().unwrap()).sum();
    assert_eq!(waves, 3, "one pod at a time: {slow_plan}");

    // The file fetches nothing: no script, no address, no external resource.
    let html = std::fs::read_to_string(&page).unwrap();
    for fetching in ["http://", "https://", "<script", "url(", "@import", "src=", "href="] {
        assert!(!html.contains(fetching), "{fetching} in the file");
    }

    // The browser renders it to a PNG, with no console message (no error, no script at all).
    let profile = dir.path().join("profile");
    let png = dir.path().join("rollout.png");
    let (_, stderr) = chromium(&page, &profile, &["--window-size=1280,900", &format!("--screenshot={}", png.display())]);
    let image = std::fs::read(&png).expect("a screenshot");
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n") && image.len() > 10_000, "a PNG of {} bytes", image.len());
    assert!(!stderr.contains("CONSOLE"), "console messages:\n{stderr}");

    // The DOM as the browser parsed it: a lane per pod, a mark per restart and warning event
    // (beside the legend's one of each), two workloads with their predicted waves.
    let (dom, _) = chromium(&page, &profile, &["--dump-dom"]);
    for pod in &pods {
        assert_eq!(dom.matches(&format!("class=\"pod-lane\" data-pod=\"{pod}\"")).count(), 1, "one lane for {pod}");
    }
    assert_eq!(dom.matches("class=\"pod-lane\"").count(), pods.len());
    assert_eq!(dom.matches("<circle class=\"mark restart\"").count() as u64, restarts + 1, "restart marks");
    assert_eq!(dom.matches("<path class=\"mark warning\"").count(), warnings + 1, "warning marks");
    assert_eq!(dom.matches("class=\"workload\"").count(), 2);
    assert_eq!(dom.matches("class=\"revision\"").count(), 3, "the slow one's two revisions and the crasher's one");
    assert_eq!(dom.matches("class=\"plan-lane\"").count(), 2);
    assert!(dom.matches("<rect class=\"wave\"").count() >= 2);

    // The saved run draws the same lanes.
    let saved = dir.path().join("run.jsonl");
    std::fs::write(&saved, &run.stdout).unwrap();
    let again = dir.path().join("again.html");
    rollwatch_testbed::rollwatch(&["timeline", saved.to_str().unwrap(), "-o", again.to_str().unwrap()]).ok();
    let redrawn = std::fs::read_to_string(&again).unwrap();
    assert_eq!(redrawn.matches("class=\"pod-lane\"").count(), pods.len());
    assert_eq!(redrawn.matches("<circle class=\"mark restart\"").count() as u64, restarts + 1);
}

#[test]
fn a_rollout_in_waves_ends_its_text_summary_with_a_row_of_blocks_and_set_image_draws_it_too() {
    let ns = TestNamespace::new("timeline-text");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("set-image.html");
    ns.rollwatch_stdin(&["apply", "-f", "-", "--timeout", "2m"], &slow("busybox:1.35")).ok();
    let run = ns
        .rollwatch(&["set", "image", "deployment/slow", "app=busybox:1.36", "--progress", "plain", "--timeout", "3m", "--timeline", page.to_str().unwrap()])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let heading = lines.iter().position(|line| line.starts_with("waves (each block one wave")).unwrap_or_else(|| panic!("no text timeline:\n{}", run.stdout));
    let row = lines[heading + 1];
    assert!(row.starts_with("deployment/slow ") && row.contains('█') && row.contains(" waves in "), "{row}");
    assert!(lines.last().unwrap().starts_with("all ready after"), "the totals stay last:\n{}", run.stdout);
    let html = std::fs::read_to_string(&page).expect("set image --timeline writes the picture");
    assert_eq!(html.matches("class=\"pod-lane\"").count(), 6, "three old pods and three new");
}
