//! `cargo xtask test`: the one command that runs every check, locally and in CI.
//!
//! The checks are a plain list of [`Step`]s run in order, stopping at the first failure.
//! To add a suite, add a step to [`STEPS`]; a [`Action::Script`] step is skipped while its
//! script does not exist, so a suite can be registered before anyone has written it.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cmd::{self, Failure};
use crate::setup::{self, VENV_DIR, WASM_TARGET};

/// One named check.
struct Step {
    /// Short name used in progress lines and in the failure message.
    name: &'static str,
    action: Action,
}

/// What a step runs, always from the repository root.
enum Action {
    /// `cargo <args>`.
    Cargo(&'static [&'static str]),
    /// `cargo <args>` for a libtest run: its `test result:` lines are added up into the
    /// final `tests: N passed, N failed` line, so the totals close the log (CI reads them).
    CargoTests(&'static [&'static str]),
    /// `bash <path>`, only if the file exists. The script gets an environment where
    /// `python3`/`python` are the `.venv` interpreter (with pika), plus `WARREN_ROOT`
    /// (the repo root) and `CARGO`, so suites need no setup logic of their own.
    Script(&'static str),
}

/// Every test step, in order: cheapest and most likely to fail first.
const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        action: Action::Cargo(&["fmt", "--all", "--", "--check"]),
    },
    Step {
        name: "clippy",
        action: Action::Cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    },
    Step {
        name: "cargo test",
        action: Action::CargoTests(&["test", "--workspace"]),
    },
    // The core must stay sans-IO and portable: building it (and the playground) for wasm
    // catches any std::net / threads / filesystem use sneaking in.
    Step {
        name: "wasm build",
        action: Action::Cargo(&[
            "build",
            "-p",
            "warren-core",
            "-p",
            "warren-web",
            "--target",
            WASM_TARGET,
        ]),
    },
    // Same scenario, same trace in wasm and native; prints wasm routing speed vs native.
    Step {
        name: "wasm determinism",
        action: Action::Script("tests/wasm/check.sh"),
    },
    Step {
        name: "wasm components",
        action: Action::Script("tests/wasm-components.sh"),
    },
    Step {
        name: "acceptance",
        action: Action::Script("tests/acceptance.sh"),
    },
    // Every scenario in the simulator vs a real RabbitMQ 3.10 and vs `warren serve`.
    Step {
        name: "differential",
        action: Action::Script("tests/differential-ci.sh"),
    },
    Step {
        name: "e2e playground",
        action: Action::Script("tests/e2e/run.sh"),
    },
];

/// Prints the steps, for `cargo xtask test --list`.
pub fn list() {
    println!("setup: cargo xtask setup");
    for step in STEPS {
        match step.action {
            Action::Cargo(args) | Action::CargoTests(args) => {
                println!("{}: cargo {}", step.name, args.join(" "))
            }
            Action::Script(path) => println!("{}: bash {path} (if present)", step.name),
        }
    }
}

/// Runs setup, then every step; the first failure stops the run with its step's name.
pub fn test(root: &Path) -> Result<(), Failure> {
    let started = Instant::now();
    banner("setup");
    setup::setup(root, setup::Options::default())
        .map_err(|Failure(message)| step_failed("setup", &message))?;

    let mut summary = Vec::new();
    let mut totals = TestTotals::default();
    for step in STEPS {
        let step_started = Instant::now();
        let ran = match step.action {
            Action::Cargo(args) => {
                banner(step.name);
                let mut command = cmd::cargo(root);
                command.args(args);
                cmd::run(&mut command).map(|()| true)
            }
            Action::CargoTests(args) => {
                banner(step.name);
                let mut command = cmd::cargo(root);
                command.args(args);
                cmd::run_lines(&mut command, |line| totals.add_line(line)).map(|()| true)
            }
            Action::Script(path) => run_script(root, step.name, path),
        };
        match ran {
            Ok(true) => summary.push(format!(
                "{}: ok ({})",
                step.name,
                seconds(step_started.elapsed())
            )),
            Ok(false) => summary.push(format!(
                "{}: skipped ({path_note})",
                step.name,
                path_note = skipped_note(&step.action)
            )),
            Err(Failure(message)) => {
                totals.print();
                return Err(step_failed(step.name, &message));
            }
        }
    }

    println!();
    println!("xtask test: OK in {}", seconds(started.elapsed()));
    for line in summary {
        println!("  - {line}");
    }
    totals.print();
    Ok(())
}

/// Sums of libtest's `test result: ok. 3 passed; 0 failed; ...` lines.
#[derive(Debug, Default, PartialEq)]
struct TestTotals {
    passed: u64,
    failed: u64,
    /// Whether any result line was seen; without one there is nothing honest to print.
    seen: bool,
}

impl TestTotals {
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result:") else {
            return;
        };
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            let [.., count, label] = words.as_slice() else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match *label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => continue,
            }
            self.seen = true;
        }
    }

    /// Prints the totals as the plain `N passed, N failed` line that log readers look for.
    fn print(&self) {
        if self.seen {
            println!("tests: {} passed, {} failed", self.passed, self.failed);
        }
    }
}

/// Runs a script step; `Ok(false)` means skipped because the script does not exist yet.
fn run_script(root: &Path, name: &str, path: &str) -> Result<bool, Failure> {
    if !root.join(path).is_file() {
        return Ok(false);
    }
    banner(name);
    let venv = root.join(VENV_DIR);
    let mut search_path = vec![venv.join("bin")];
    search_path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let search_path: OsString = std::env::join_paths(search_path)
        .map_err(|err| Failure(format!("cannot build PATH for {path}: {err}")))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut command = Command::new("bash");
    command
        .arg(path)
        .current_dir(root)
        .env("PATH", search_path)
        .env("VIRTUAL_ENV", &venv)
        .env("WARREN_ROOT", root)
        .env("CARGO", cargo);
    cmd::run(&mut command).map(|()| true)
}

fn skipped_note(action: &Action) -> String {
    match action {
        Action::Script(path) => format!("{path} not present"),
        Action::Cargo(_) | Action::CargoTests(_) => "not run".to_string(),
    }
}

fn step_failed(name: &str, message: &str) -> Failure {
    Failure(format!(
        "test step `{name}` failed; later steps were not run\n  {message}"
    ))
}

/// A visible separator so each step's output is easy to find in a long CI log.
fn banner(name: &str) {
    println!();
    println!("==> xtask test: {name}");
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::TestTotals;

    #[test]
    fn totals_add_up_libtest_result_lines() {
        let mut totals = TestTotals::default();
        for line in [
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; \
             finished in 0.00s",
            "test result: FAILED. 5 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out",
            "test foo ... ok",
        ] {
            totals.add_line(line);
        }
        assert_eq!(
            totals,
            TestTotals {
                passed: 8,
                failed: 2,
                seen: true
            }
        );
    }

    #[test]
    fn totals_ignore_other_lines() {
        let mut totals = TestTotals::default();
        totals.add_line("test result is not a summary: 3 passed");
        totals.add_line("warning: 2 passed; 1 failed");
        assert_eq!(totals, TestTotals::default());
    }
}
