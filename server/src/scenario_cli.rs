//! `warren scenario run FILE`, `warren scenario check FILE...` and
//! `warren scenario pika FILE`: the simulator from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use warren_core::scenario::{self, Scenario};
use warren_core::sim::render_run;

fn load(path: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs a scenario and prints its trace, one line per event, with the reason.
pub fn run(path: &Path) -> ExitCode {
    let s = match load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", render_run(s));
    ExitCode::SUCCESS
}

/// Prints the scenario as a pika program (see `warren_core::scenario::pika`),
/// for running it against RabbitMQ without Warren.
pub fn pika(path: &Path) -> ExitCode {
    match load(path) {
        Ok(s) => {
            print!("{}", scenario::pika::to_pika(&s));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Checks every file's expectations; exits 1 if any fails, 2 if a file is unreadable.
pub fn check(paths: &[PathBuf]) -> ExitCode {
    let (mut failed, mut broken) = (0, 0);
    for path in paths {
        let s = match load(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                broken += 1;
                continue;
            }
        };
        let report = scenario::check(&s);
        if report.passed() {
            println!("PASS {} ({} expectations)", path.display(), s.expect.len());
            continue;
        }
        failed += 1;
        println!("FAIL {}", path.display());
        for f in &report.failures {
            println!("  {f}");
        }
        println!("  trace:");
        for line in report.simulation.trace() {
            println!("    {}", line.render());
        }
    }
    println!(
        "{} passed, {failed} failed{}",
        paths.len() - failed - broken,
        if broken > 0 {
            format!(", {broken} unreadable")
        } else {
            String::new()
        }
    );
    if broken > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
