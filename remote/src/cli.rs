//! `warren scenario check --broker URL` and `warren scenario diff --broker URL`:
//! each builds its own tokio runtime, so the `warren` binary wires them in
//! with one call each.

use crate::{check_remote, diff, run_remote, RemoteOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use warren_core::scenario::{self, Scenario};

fn load(path: &PathBuf) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// amqprs (2.1) panics inside its own channel-dispatcher task when a
/// connection is cut under it, which a scenario does on purpose (`crash`,
/// `restart`). The task is the library's and the run is unaffected, so its
/// report is left out rather than printed as if Warren had failed; any other
/// panic is reported as usual.
fn quiet_client_library_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_amqprs = info
                .location()
                .is_some_and(|l| l.file().contains("amqprs") && l.file().contains("dispatcher"));
            if !in_amqprs {
                default(info);
            }
        }));
    });
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    quiet_client_library_panics();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn options(restart_cmd: Option<&str>, time_scale: f64) -> RemoteOptions {
    RemoteOptions {
        time_scale,
        restart_cmd: restart_cmd.map(str::to_string),
        ..RemoteOptions::default()
    }
}

/// Checks each scenario's expectations against the broker at `broker`.
/// Exit 0 when every file passed (skipped expectations do not fail), 1 when an
/// expectation failed, 2 when a file could not be read or the broker reached.
pub fn check_cli(
    files: &[PathBuf],
    broker: &str,
    restart_cmd: Option<&str>,
    time_scale: f64,
) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let opts = options(restart_cmd, time_scale);
    let (mut failed, mut broken) = (0, 0);
    for path in files {
        let s = match load(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                broken += 1;
                continue;
            }
        };
        let run = match rt.block_on(run_remote(&s, broker, &opts)) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("{}: cannot run against {broker}: {e}", path.display());
                broken += 1;
                continue;
            }
        };
        let verdict = check_remote(&s, &run);
        let status = if verdict.passed() { "ok" } else { "FAILED" };
        println!(
            "{status:<6} {} (on the broker{})",
            path.display(),
            if verdict.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} expectation(s) skipped", verdict.skipped.len())
            }
        );
        for sk in &verdict.skipped {
            println!("       expect[{}] skipped: {}", sk.index, sk.reason);
        }
        for n in &run.notes {
            println!("       note: {n}");
        }
        if !verdict.passed() {
            failed += 1;
            for f in &verdict.failures {
                println!("       {f}");
            }
            println!("       what the clients observed:");
            for o in &run.observations {
                println!(
                    "       {:>7}ms  {:<7} {}",
                    o.time(),
                    o.client(),
                    o.describe()
                );
            }
        }
    }
    println!(
        "{} passed, {failed} failed",
        files.len().saturating_sub(failed + broken)
    );
    if broken > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs each scenario in the simulator and on the broker and prints where
/// they differ. Exit 0 when none differs, 1 when one does, 2 when a file could
/// not be read or the broker reached.
pub fn diff_cli(
    files: &[PathBuf],
    broker: &str,
    restart_cmd: Option<&str>,
    time_scale: f64,
) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let opts = options(restart_cmd, time_scale);
    let (mut differ, mut broken) = (0, 0);
    for path in files {
        let s = match load(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                broken += 1;
                continue;
            }
        };
        match rt.block_on(diff(&s, broker, &opts)) {
            Ok(report) => {
                if report.same() {
                    println!("same   {}", path.display());
                } else {
                    differ += 1;
                    println!("DIFFER {}", path.display());
                }
                for line in report.text.lines() {
                    println!("       {line}");
                }
            }
            Err(e) => {
                eprintln!("{}: cannot run against {broker}: {e}", path.display());
                broken += 1;
            }
        }
    }
    println!(
        "{} same, {differ} differ",
        files.len().saturating_sub(differ + broken)
    );
    if broken > 0 {
        ExitCode::from(2)
    } else if differ > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
