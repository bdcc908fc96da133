//! "Export as pika script" end to end: every scenario under `tests/scenarios/`
//! and `tutorials/*/scenario.json` is turned into a Python program by
//! `warren scenario pika`, which is run with pika against a `warren serve` of
//! its own and must exit 0 (every checkable expectation held). This is what
//! keeps the generated programs honest: a runtime bug or a broker difference
//! shows up as a failing scenario, with the program's output.
//!
//! Scenarios with a `restart` step run too: the script's `RESTART_CMD` asks
//! the test (through files in a temp dir) to stop and start its server, as a
//! real user's command would restart RabbitMQ. No scenario is skipped.
//!
//! Needs `<workspace>/.venv/bin/python3` with pika (CI's setup creates it).

mod common;

use common::Server;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn python() -> PathBuf {
    let p = root().join(".venv/bin/python3");
    assert!(
        p.exists(),
        "{} is missing: create it with `python3 -m venv .venv && .venv/bin/pip install pika`",
        p.display()
    );
    p
}

fn scenarios() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let list = |dir: PathBuf| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    for p in list(root().join("tests/scenarios")) {
        if p.extension().is_some_and(|e| e == "json") {
            files.push(p);
        }
    }
    for d in list(root().join("tutorials")) {
        let p = d.join("scenario.json");
        if p.exists() {
            files.push(p);
        }
    }
    files.sort();
    files
}

/// Generates the script for `file` with the CLI, runs it against a fresh
/// server, and returns (exit code, output).
fn run_script(file: &Path, script: Option<&str>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = match script {
        Some(s) => s.to_string(),
        None => {
            let out = Command::new(env!("CARGO_BIN_EXE_warren"))
                .args(["scenario", "pika"])
                .arg(file)
                .output()
                .expect("run warren scenario pika");
            assert!(
                out.status.success(),
                "warren scenario pika {}",
                file.display()
            );
            String::from_utf8(out.stdout).expect("UTF-8 script")
        }
    };
    let path = dir.path().join("script.py");
    std::fs::write(&path, text).expect("write script");
    let (request, done) = (dir.path().join("restart"), dir.path().join("restarted"));
    // The script waits here until the test has restarted its server.
    let restart_cmd = format!(
        "touch '{r}' && for i in $(seq 600); do [ -f '{d}' ] && rm -f '{d}' && exit 0; sleep 0.1; done; exit 1",
        r = request.display(),
        d = done.display()
    );
    let mut server = Server::start();
    let out_path = dir.path().join("out.txt");
    let out_file = std::fs::File::create(&out_path).expect("output file");
    let mut child = Command::new(python())
        .arg(&path)
        .arg(server.url())
        .env("RESTART_CMD", restart_cmd)
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::from(out_file.try_clone().expect("clone")))
        .stderr(Stdio::from(out_file))
        .spawn()
        .expect("run python");
    let began = Instant::now();
    let code = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status.code();
        }
        if request.exists() {
            let _ = std::fs::remove_file(&request);
            server.stop();
            server.restart();
            std::fs::write(&done, "").expect("signal the restart");
        }
        if began.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    (code, output)
}

#[test]
fn every_scenario_passes_as_a_pika_script() {
    python();
    let files = Arc::new(Mutex::new(scenarios()));
    assert!(files.lock().expect("lock").len() > 10, "no scenarios found");
    let failures = Arc::new(Mutex::new(Vec::new()));
    // Scenarios mostly wait on the clock, so two at a time, each with its own
    // server. Not more: the scripts check figures at set times, and with four
    // at once on this 2-core machine a step was sometimes late (11-rpc).
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (files, failures) = (files.clone(), failures.clone());
            std::thread::spawn(move || loop {
                let Some(file) = files.lock().expect("lock").pop() else {
                    return;
                };
                let (code, output) = run_script(&file, None);
                let restarts = std::fs::read_to_string(&file)
                    .unwrap_or_default()
                    .contains(r#""do": "restart""#);
                if restarts && !output.contains("restarted the broker") {
                    failures.lock().expect("lock").push(format!(
                        "{} has a restart step the script did not play:\n{output}",
                        file.display()
                    ));
                }
                if code != Some(0) {
                    failures.lock().expect("lock").push(format!(
                        "{} exited with {code:?}:\n{output}",
                        file.display()
                    ));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let failures = failures.lock().expect("lock");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The script must be able to fail: a wrong expectation exits 1 with a FAIL line.
#[test]
fn a_wrong_expectation_fails_the_script() {
    python();
    let file = root().join("tests/scenarios/hello-world.json");
    let text = std::fs::read_to_string(&file).expect("read hello-world");
    let wrong = text.replace(r#""bodies": ["Hello World!"]"#, r#""bodies": ["Goodbye!"]"#);
    assert_ne!(text, wrong, "hello-world.json changed: update this test");
    let s = warren_core::scenario::parse(&wrong).expect("parses");
    let script = warren_core::scenario::pika::to_pika(&s);
    let (code, output) = run_script(&file, Some(&script));
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("FAIL expect[2] received"), "{output}");
}
