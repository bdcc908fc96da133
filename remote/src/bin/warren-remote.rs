//! A stand-alone front end to this crate, for scripts (tests/differential.sh)
//! that should not depend on the `warren` binary's wiring:
//! `warren-remote check|diff --broker URL [--restart-cmd CMD] [--time-scale X] FILE...`

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: warren-remote check|diff --broker URL [--restart-cmd CMD] [--time-scale X] FILE..."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        return usage();
    };
    let (mut broker, mut restart, mut scale, mut files) = (None, None, 1.0f64, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--broker" => broker = args.next(),
            "--restart-cmd" => restart = args.next(),
            "--time-scale" => match args.next().and_then(|v| v.parse().ok()) {
                Some(v) => scale = v,
                None => return usage(),
            },
            _ => files.push(PathBuf::from(a)),
        }
    }
    let Some(broker) = broker else {
        return usage();
    };
    match command.as_str() {
        "check" => warren_remote::check_cli(&files, &broker, restart.as_deref(), scale),
        "diff" => warren_remote::diff_cli(&files, &broker, restart.as_deref(), scale),
        _ => usage(),
    }
}
