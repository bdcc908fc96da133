//! The native half of the wasm check: `native trace FILE` prints a scenario's
//! trace; `native bench ROUNDS` times the same routing work the wasm export does.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["trace", file] => match std::fs::read(file) {
            Ok(bytes) => print!("{}", warren_wasm_check::trace_of(&bytes)),
            Err(e) => {
                eprintln!("error: {file}: {e}");
                std::process::exit(2);
            }
        },
        ["bench", rounds] => {
            let rounds: u32 = rounds.parse().unwrap_or(100);
            warren_wasm_check::bench_route(1); // warm-up, and builds the exchange once
            let start = Instant::now();
            let matched = warren_wasm_check::bench_route(rounds);
            let secs = start.elapsed().as_secs_f64();
            println!("{matched} {secs}");
        }
        _ => {
            eprintln!("usage: native trace FILE | native bench ROUNDS");
            std::process::exit(2);
        }
    }
}
