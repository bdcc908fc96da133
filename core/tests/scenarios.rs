//! Every scenario file under `tutorials/` and `tests/scenarios/` is a test of
//! its own, named after its path: its expectations must hold in the simulator.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use warren_core::scenario;

/// Scenario files: every `.json` under `tests/scenarios`, and each lesson's `scenario.json`.
fn scenario_files(dir: &Path, all_json: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scenario_files(&p, all_json, out);
        } else if p.extension().is_some_and(|e| e == "json")
            && (all_json || p.file_name().is_some_and(|n| n == "scenario.json"))
        {
            out.push(p);
        }
    }
}

fn run(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let s = scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if s.expect.is_empty() {
        return Err("a scenario under test must state at least one expectation".into());
    }
    let report = scenario::check(&s);
    if report.passed() {
        return Ok(());
    }
    let mut msg = String::new();
    for f in &report.failures {
        msg.push_str(&format!("{f}\n"));
    }
    msg.push_str("trace:\n");
    for line in report.simulation.trace() {
        msg.push_str(&line.render());
        msg.push('\n');
    }
    Err(msg.into())
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    scenario_files(&root.join("tutorials"), false, &mut files);
    scenario_files(&root.join("tests/scenarios"), true, &mut files);
    let trials = files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            Trial::test(name, move || run(&p))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
