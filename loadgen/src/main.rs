//! `warren-loadgen`: drives any AMQP 0-9-1 broker through a real client (amqprs) and
//! measures it, so `warren serve` and RabbitMQ are compared under exactly the same load.
//!
//! Each workload prints what it is doing to stderr and ends with one `result` line on
//! stdout (`result workload=NAME key=value ...`), which `cargo xtask bench-server` reads.
//!
//! Workloads:
//! - `throughput`: publishers and consumers on one queue, unthrottled; consumed msg/s.
//! - `latency`: a fixed publish rate with send times in the bodies; p50/p99/p99.9.
//! - `memory`: N messages queued with no consumer; growth of the broker's VmRSS.
//! - `startup`: spawn the broker and time until an AMQP handshake succeeds.
//! - `recovery`: store persistent messages, kill -9 the broker, and time its restart
//!   until the queue reports them all again.

/// mimalloc rather than glibc's malloc: amqprs allocates and copies every body
/// more than once, and glibc's path for 4 KiB blocks made the client itself the
/// bottleneck (the consumer thread waits for a core as it is). The load is the same
/// for both brokers; this only lets the client keep up (+8% consumed with 4 KiB
/// bodies against Warren, no change against RabbitMQ, in alternating 5 s runs).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod clients;
mod confirm_window;
mod latency;
mod memory;
mod percentile;
mod procfs;
mod recovery;
mod session;
mod startup;
mod target;
mod throughput;

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::target::Target;

/// A failed run, with a message for the person reading the bench log.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Parser)]
#[command(name = "warren-loadgen", version, about = "AMQP load generator")]
struct Cli {
    /// The broker: amqp://user:pass@host:port/vhost (vhost URL-encoded: %2F for /).
    #[arg(
        long,
        global = true,
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2F"
    )]
    url: String,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Subcommand)]
enum Workload {
    /// Publishers and consumers on one queue as fast as they go; reports consumed msg/s.
    Throughput(throughput::Args),
    /// Publishes at a fixed rate and reports delivery latency percentiles.
    Latency(latency::Args),
    /// Queues messages with no consumer and reports the broker's resident memory growth.
    Memory(memory::Args),
    /// Starts the broker and reports the time until it accepts AMQP connections.
    Startup(startup::Args),
    /// Stores persistent messages, kills the broker with SIGKILL, and reports the time
    /// until, started again, it serves them all.
    Recovery(recovery::Args),
}

/// A duration from a command-line number of seconds.
pub fn secs(value: f64, flag: &str) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value).map_err(|_| Error(format!("{flag}: bad number of seconds")))
}

/// One `key=value` of the final result line.
pub type Field = (&'static str, String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let target = match Target::parse(&cli.url) {
        Ok(target) => target,
        Err(e) => {
            eprintln!("warren-loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("warren-loadgen: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (name, outcome) = runtime.block_on(async {
        match cli.workload {
            Workload::Throughput(args) => ("throughput", throughput::run(&target, args).await),
            Workload::Latency(args) => ("latency", latency::run(&target, args).await),
            Workload::Memory(args) => ("memory", memory::run(&target, args).await),
            Workload::Startup(args) => ("startup", startup::run(&target, args).await),
            Workload::Recovery(args) => ("recovery", recovery::run(&target, args).await),
        }
    });
    // Connections' background tasks may still be winding down; do not wait for them.
    runtime.shutdown_background();
    match outcome {
        Ok(fields) => {
            let mut line = format!("result workload={name}");
            for (key, value) in fields {
                line.push_str(&format!(" {key}={value}"));
            }
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("warren-loadgen: {name}: {e}");
            ExitCode::FAILURE
        }
    }
}
