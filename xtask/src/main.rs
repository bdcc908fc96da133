//! Warren's build automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Why an xtask rather than a Makefile or shell scripts: it needs nothing but cargo, so the
//! same commands work on a developer's machine and on a fresh CI machine, and the list of
//! test steps lives in one typed place (`test.rs`) that is easy to extend.
//!
//! Commands:
//! - `setup`: idempotently install what the tests need (wasm target, Python venv with pika,
//!   optionally RabbitMQ for differential tests).
//! - `test`: the one command that runs every check; CI runs exactly this.
//! - `run`: start Warren.
//! - `bench`: the core's benchmarks.
//! - `bench-server`: `warren serve` against RabbitMQ 3.10 under the same AMQP load.
//! - `web`: build the browser playground into `dist/` (wasm + JS glue + page).

mod bench_server;
mod cmd;
mod setup;
mod test;
mod web;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd::Failure;

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Warren's build automation",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the tests need (idempotent): wasm32 target, .venv with pika.
    Setup {
        /// Also apt-get install rabbitmq-server if it is missing (needs root and apt).
        #[arg(long)]
        rabbitmq: bool,
    },
    /// Run every test step (setup, fmt, clippy, cargo test, wasm build, extra suites).
    Test {
        /// Print the test steps and exit without running anything.
        #[arg(long)]
        list: bool,
    },
    /// Run Warren. With no arguments runs the default; otherwise passes ARGS to `warren`.
    Run {
        /// Arguments for the `warren` binary, e.g. `cargo xtask run -- scenario run FILE`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Run the core's benchmarks (`cargo bench -p warren-core`); extra ARGS go to cargo bench.
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Compare `warren serve` with RabbitMQ 3.10 (own node on spare ports) under the same
    /// AMQP load generator; prints each workload's figures, their ratio and the goal.
    BenchServer {
        /// Measured seconds of each throughput and latency workload.
        #[arg(long, default_value_t = 8.0)]
        seconds: f64,
        /// Seconds each throughput and latency workload runs before measuring.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Messages the memory workload queues, and the recovery workload stores before
        /// it kills the broker.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Rounds of the throughput and latency workloads, each broker once per round;
        /// the table shows the median (this shared VM varies by ±10% from one run to
        /// the next).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Build the playground (web/) for the browser into dist/ and print the gzipped wasm size.
    Web,
}

/// What `cargo xtask run` starts when given no arguments: the broker, serving the
/// playground built into `dist/`, with its state in `./warren-data`.
const DEFAULT_RUN_ARGS: &[&str] = &["serve", "--web-dir", "dist"];

/// Where people open the playground when Warren runs with the defaults.
const PLAYGROUND_URL: &str = "http://localhost:15672/";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = repo_root();
    let result = match cli.command {
        Command::Setup { rabbitmq } => setup::setup(&root, setup::Options { rabbitmq }),
        Command::Test { list } if list => {
            test::list();
            Ok(())
        }
        Command::Test { .. } => test::test(&root),
        Command::Run { args } => run_warren(&root, &args),
        Command::Bench { args } => bench(&root, &args),
        Command::BenchServer {
            seconds,
            warmup,
            messages,
            repeat,
        } => bench_server::bench_server(
            &root,
            &bench_server::Options {
                seconds,
                warmup,
                messages,
                repeat: repeat.max(1),
            },
        ),
        Command::Web => web::web(&root),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, so every command behaves the same whatever directory cargo was
/// invoked from (cargo finds the workspace from any subdirectory; our paths must too).
fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Starts Warren: `cargo run --release -p warren-server -- <args>`.
///
/// Release mode because this is how people try the broker, and debug builds of a broker
/// under load are misleadingly slow.
fn run_warren(root: &Path, args: &[OsString]) -> Result<(), Failure> {
    let mut command = cmd::cargo(root);
    command.args(["run", "--release", "-p", "warren-server", "--"]);
    if args.is_empty() {
        // The playground first, so the server has something to serve at `/`.
        web::web(root)?;
        let mut build = cmd::cargo(root);
        build.args(["build", "--release", "-p", "warren-server"]);
        cmd::run(&mut build)?;
        println!();
        println!("Warren is starting: open {PLAYGROUND_URL} (guest/guest); AMQP clients connect to amqp://guest:guest@localhost:5672/");
        println!("Stop it with Ctrl-C.");
        command.args(DEFAULT_RUN_ARGS);
    } else {
        command.args(args);
    }
    cmd::run(&mut command)
}

/// Runs the core's benchmarks; the core is where the broker's hot paths live.
fn bench(root: &Path, args: &[OsString]) -> Result<(), Failure> {
    let mut command = cmd::cargo(root);
    command.args(["bench", "-p", "warren-core"]).args(args);
    cmd::run(&mut command)
}
