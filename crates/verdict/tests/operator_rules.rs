//! The built-in readiness rules (issue #16) against fixtures written from each operator's
//! documented status: every file in `tests/rules/` is one operator's objects, each naming the
//! verdict it should get in its `fixture.rollwatch.dev/expect` annotation (`State [ReasonCode]`).

use std::path::Path;

use rollwatch_verdict::{ObjectRef, Policy, Snapshot, State, parse_documents};

const EXPECT: &str = "fixture.rollwatch.dev/expect";

fn state(word: &str) -> State {
    match word {
        "Ready" => State::Ready,
        "Progressing" => State::Progressing,
        "Failed" => State::Failed,
        "Paused" => State::Paused,
        other => panic!("unknown state {other} in a fixture"),
    }
}

#[test]
fn every_operator_fixture_gets_its_documented_verdict() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules");
    let mut files: Vec<_> = std::fs::read_dir(&directory).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let objects = parse_documents(&std::fs::read_to_string(file).unwrap(), &name).unwrap();
        for object in objects {
            let expect = object["metadata"]["annotations"][EXPECT].as_str().unwrap_or_else(|| panic!("{name}: a fixture without {EXPECT}")).to_string();
            let kind = object["kind"].as_str().unwrap().to_string();
            let namespace = object["metadata"]["namespace"].as_str().map(str::to_string);
            let key = ObjectRef::new(kind, namespace, object["metadata"]["name"].as_str().unwrap());
            let mut snapshot = Snapshot::new();
            snapshot.upsert(object).unwrap();
            let verdict = snapshot.verdict(&key, &Policy::default(), jiff::Timestamp::UNIX_EPOCH);
            let mut words = expect.split_whitespace();
            let expected_state = state(words.next().unwrap());
            let expected_code = words.next();
            let code = verdict.reasons.first().map(|reason| reason.code.as_str());
            if verdict.state != expected_state || (expected_code.is_some() && code != expected_code) {
                wrong.push(format!("{name}: {key}: expected {expect}, got {:?} {code:?}: {}", verdict.state, verdict.message));
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(files.len(), 10, "one fixture file per built-in operator file");
    assert!(checked >= 40, "only {checked} fixtures checked");
}
