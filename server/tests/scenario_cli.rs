//! `warren scenario run|check` from the command line: exit codes and what is printed.

use std::path::PathBuf;
use std::process::Command;

fn warren() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warren"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warren-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn run_prints_a_trace_with_reasons() {
    let out = warren()
        .args(["scenario", "run"])
        .arg(root().join("tests/scenarios/hello-world.json"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("scenario 'hello-world'"), "{text}");
    assert!(
        text.contains("default exchange: routing key 'hello' names the queue"),
        "{text}"
    );
    assert!(text.contains("received \"Hello World!\""), "{text}");
}

#[test]
fn check_passes_good_files_and_fails_with_a_diff() {
    let good = root().join("tests/scenarios/work-queue-round-robin.json");
    let out = warren()
        .args(["scenario", "check"])
        .arg(&good)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("PASS"));

    let text = std::fs::read_to_string(&good).expect("read");
    let broken = text.replacen("\"task 0\"", "\"task 99\"", 1);
    assert_ne!(text, broken, "the edit must change an expectation");
    let bad = temp_file("broken.json", &broken);
    let out = warren()
        .args(["scenario", "check"])
        .arg(&good)
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("expected") && stdout.contains("observed"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_bad_file_names_the_path_and_position() {
    let bad = temp_file(
        "typo.json",
        "{\"version\": 1, \"name\": \"x\",\n \"script\": [{\"do\": \"publsh\", \"client\": \"p\"}]}",
    );
    let out = warren()
        .args(["scenario", "check"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("script[0]"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("unknown variant `publsh`"), "{stderr}");

    let out = warren()
        .args(["scenario", "run", "/no/such/file.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
