//! `cargo xtask bench-server`: the same load generator (`warren-loadgen`, a real AMQP
//! client) against RabbitMQ 3.10 and against `warren serve`, in one run, with each
//! workload's figures side by side as a ratio against the goals of the server issue.
//!
//! Start-up is timed with nothing else running, and each broker's memory workload runs
//! first on a fresh broker so it sees a clean baseline. The throughput and latency
//! workloads then run with both brokers up, taking turns: round by round, each workload
//! runs against one broker and right after against the other (RabbitMQ first in odd
//! rounds, Warren first in even ones). This shared 2-core VM gets noisier and calmer over
//! minutes, and runs far apart in time would compare the noise, not the brokers; runs
//! side by side see the same machine. Before each run the driver waits until both
//! brokers are idle, so neither one's leftover work (RabbitMQ freeing a million
//! messages) is charged to the other. Recovery after kill -9 runs last, each broker
//! alone, since it starts and crashes its own.

mod brokers;
mod idle;
mod noise;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use self::brokers::{Rabbit, Warren};
use self::report::{Goal, Row};
use crate::cmd::{self, Failure};

/// How long each workload runs; the defaults keep the whole bench near five minutes.
pub struct Options {
    /// Measured seconds of each throughput and latency workload.
    pub seconds: f64,
    /// Seconds of each such workload before measuring starts.
    pub warmup: f64,
    /// Messages queued by the memory workload.
    pub messages: u64,
    /// Runs of each throughput and latency workload; the median is reported.
    pub repeat: usize,
}

/// How long the machine's calm is measured before each round ([`noise`]).
const STALL_PROBE: std::time::Duration = std::time::Duration::from_secs(1);

/// One broker's figures, by the keys used in [`rows`].
type Figures = BTreeMap<String, f64>;

/// Every run's figure, by key, before the median is taken.
type Samples = BTreeMap<String, Vec<f64>>;

/// The median of each key's samples (the lower middle one for an even count).
fn medians(samples: &Samples) -> Figures {
    samples
        .iter()
        .filter_map(|(key, values)| {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let middle = sorted.get((sorted.len().max(1) - 1) / 2)?;
            Some((key.clone(), *middle))
        })
        .collect()
}

/// The samples behind a median, for the log under the table.
fn sample_line(key: &str, rabbit: &Samples, warren: &Samples) -> Option<String> {
    let list = |s: &Samples| {
        s.get(key).map(|v| {
            v.iter()
                // msg/s as whole numbers, milliseconds (p99) to 0.01.
                .map(|x| {
                    if *x < 100.0 {
                        format!("{x:.2}")
                    } else {
                        format!("{x:.0}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    Some(format!(
        "{key}: RabbitMQ [{}], Warren [{}]",
        list(rabbit)?,
        list(warren)?
    ))
}

pub fn bench_server(root: &Path, options: &Options) -> Result<(), Failure> {
    ensure_rabbitmq()?;
    let mut build = cmd::cargo(root);
    build.args([
        "build",
        "--release",
        "-p",
        "warren-server",
        "-p",
        "warren-loadgen",
        "--bin",
        "warren",
        "--bin",
        "warren-loadgen",
    ]);
    cmd::run(&mut build)?;
    let loadgen = root.join("target/release/warren-loadgen");
    let warren_bin = root.join("target/release/warren");
    let ports = free_ports(root, 3)?;
    let work = WorkDir::create()?;
    let mut failures = Vec::new();

    let [rabbit_port, rabbit_dist_port, warren_port] = [ports[0], ports[1], ports[2]];
    let mut rabbit = Rabbit::new(work.path(), rabbit_port, rabbit_dist_port)?;
    let mut warren = Warren::new(&warren_bin, work.path(), warren_port);
    let mut rabbit_samples = Samples::new();
    let mut warren_samples = Samples::new();

    println!("\n== Start-up, each broker alone on the machine");
    let mut startup = Command::new(&loadgen);
    rabbit.configure(&mut startup);
    startup
        .args(["--url", &rabbit.url(), "startup"])
        .args(rabbit.startup_args());
    record(&mut startup, "startup", &mut rabbit_samples, &mut failures);
    let mut startup = Command::new(&loadgen);
    startup
        .args(["--url", &warren.url(), "startup"])
        .args(warren.startup_args(&work.path().join("warren-startup-data")));
    record(&mut startup, "startup", &mut warren_samples, &mut failures);

    println!("\n== Memory, each broker freshly started (RabbitMQ on port {rabbit_port}, Warren on {warren_port})");
    rabbit.start()?;
    let rabbit_pid = rabbit.pid()?;
    let memory = memory_args(options);
    run_workload(
        &loadgen,
        (&rabbit.url(), rabbit_pid),
        ("memory", &memory),
        &[rabbit_pid],
        options,
        &mut rabbit_samples,
        &mut failures,
    );
    warren.start()?;
    let warren_pid = warren.pid()?;
    let both = [rabbit_pid, warren_pid];
    run_workload(
        &loadgen,
        (&warren.url(), warren_pid),
        ("memory", &memory),
        &both,
        options,
        &mut warren_samples,
        &mut failures,
    );

    println!("\n== Throughput and latency: both brokers up, taking turns");
    let (rabbit_url, warren_url) = (rabbit.url(), warren.url());
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let mut stalls = Vec::new();
    for round in 0..options.repeat {
        idle::wait_until_idle(&both);
        let found = noise::measure(cores, STALL_PROBE);
        println!(
            "\n-- round {} of {}: the machine stalled {:.2}% of the time (longest {:.1} ms)",
            round + 1,
            options.repeat,
            found.lost_percent,
            found.longest_ms
        );
        stalls.push(found);
        for (name, args) in timed_workloads() {
            // Alternate who goes first, so neither always runs right after the other.
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let (target, samples) = if side == 0 {
                    ((rabbit_url.as_str(), rabbit_pid), &mut rabbit_samples)
                } else {
                    ((warren_url.as_str(), warren_pid), &mut warren_samples)
                };
                println!(
                    "\n-- round {} of {}: {name} against {}",
                    round + 1,
                    options.repeat,
                    if side == 0 { "RabbitMQ" } else { "Warren" }
                );
                run_workload(
                    &loadgen,
                    target,
                    (name, &args),
                    &both,
                    options,
                    samples,
                    &mut failures,
                );
            }
        }
    }
    rabbit.stop();
    warren.stop();

    println!("\n== Recovery: persistent messages stored, kill -9, restart; each broker alone");
    let recovery = recovery_args(options);
    let mut command = Command::new(&loadgen);
    rabbit.configure(&mut command);
    command
        .args(["--url", &rabbit_url])
        .args(&recovery)
        .args(rabbit.recovery_args());
    record(&mut command, "recovery", &mut rabbit_samples, &mut failures);
    let mut command = Command::new(&loadgen);
    command
        .args(["--url", &warren_url])
        .args(&recovery)
        .args(warren.recovery_args(
            &work.path().join("warren-recovery-data"),
            &work.path().join("warren-recovery.log"),
        ));
    record(&mut command, "recovery", &mut warren_samples, &mut failures);

    let rabbit_figures = medians(&rabbit_samples);
    let warren_figures = medians(&warren_samples);
    println!();
    if options.repeat > 1 {
        println!("Medians of {} runs; every run:", options.repeat);
        for key in ["transient", "persistent", "body_4k", "p99"] {
            if let Some(line) = sample_line(key, &rabbit_samples, &warren_samples) {
                println!("  {line}");
            }
        }
        println!();
    }
    let stalls: Vec<String> = stalls
        .iter()
        .map(|s| format!("{:.2}% (longest {:.1} ms)", s.lost_percent, s.longest_ms))
        .collect();
    println!("Machine stalls, round by round: [{}]\n", stalls.join(", "));
    print!(
        "{}",
        report::table(&rows(&rabbit_figures, &warren_figures, options.messages))
    );
    println!("\nCPU used during the measured spans (2 cores in all):\n");
    print!(
        "{}",
        report::table(&cpu_rows(&rabbit_figures, &warren_figures))
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure(format!(
            "workloads failed: {}",
            failures.join("; ")
        )))
    }
}

/// The memory workload's arguments: a million messages queued with no consumer.
fn memory_args(options: &Options) -> Vec<String> {
    vec![
        "memory".into(),
        "--messages".into(),
        options.messages.to_string(),
    ]
}

/// The recovery workload's arguments: as many persistent messages as the memory
/// workload queues, confirmed before the crash.
fn recovery_args(options: &Options) -> Vec<String> {
    vec![
        "recovery".into(),
        "--messages".into(),
        options.messages.to_string(),
    ]
}

/// The throughput and latency workloads, each run `repeat` times per broker.
fn timed_workloads() -> [(&'static str, Vec<String>); 4] {
    [
        ("transient", throughput(&["--body", "16"])),
        (
            "persistent",
            throughput(&["--body", "16", "--persistent", "--confirm-window", "1000"]),
        ),
        ("body_4k", throughput(&["--body", "4096"])),
        ("latency", strings(&["latency", "--rate", "10000"])),
    ]
}

/// Runs one workload against the broker at `target` (URL, process id) once every
/// process in `quiet` is idle, and files its figures in `figures`.
fn run_workload(
    loadgen: &Path,
    (url, pid): (&str, u32),
    (name, args): (&'static str, &[String]),
    quiet: &[u32],
    options: &Options,
    figures: &mut Samples,
    failures: &mut Vec<String>,
) {
    idle::wait_until_idle(quiet);
    let mut command = Command::new(loadgen);
    command
        .args(["--url", url])
        .args(args)
        .args(["--pid", &pid.to_string()]);
    if name != "memory" {
        command.args([
            "--warmup",
            &options.warmup.to_string(),
            "--seconds",
            &options.seconds.to_string(),
        ]);
    }
    record(&mut command, name, figures, failures);
}

/// Runs the load generator and files its result under `name` (latency gives three
/// figures); a failure is noted and the bench goes on with the next workload.
fn record(
    command: &mut Command,
    name: &'static str,
    figures: &mut Samples,
    failures: &mut Vec<String>,
) {
    let mut result = None;
    let ran = cmd::run_lines(command, |line| {
        if let Some(fields) = report::parse_result(line) {
            result = Some(fields);
        }
    });
    let fields = match (ran, result) {
        (Ok(()), Some(fields)) => fields,
        (Err(Failure(e)), _) => return failures.push(format!("{name}: {e}")),
        (Ok(()), None) => return failures.push(format!("{name}: no result line")),
    };
    let number = |key: &str| fields.get(key).and_then(|v| v.parse::<f64>().ok());
    let found: Vec<(&'static str, Option<f64>)> = match name {
        "memory" => vec![("memory", number("growth_bytes").map(|b| b / 1e6))],
        "latency" => vec![
            ("p50", number("p50_us").map(|us| us / 1e3)),
            ("p99", number("p99_us").map(|us| us / 1e3)),
            ("p999", number("p999_us").map(|us| us / 1e3)),
        ],
        "startup" => vec![("startup", number("ms"))],
        "recovery" => vec![
            ("recovery", number("recovered_ms")),
            ("recovery_accepting", number("accepting_ms")),
        ],
        _ => vec![(name, number("consumed_per_s"))],
    };
    for (key, value) in found {
        match value {
            Some(v) => figures.entry(key.to_string()).or_default().push(v),
            None => failures.push(format!("{name}: no {key} in the result")),
        }
    }
    // Where the machine's two cores went during the measured span.
    for side in ["broker", "loadgen"] {
        if let Some(cores) = number(&format!("{side}_cores")) {
            figures.entry(cpu_key(side, name)).or_default().push(cores);
        }
    }
}

/// Where [`record`] files the cores `side` ("broker" or "loadgen") used in `workload`.
fn cpu_key(side: &str, workload: &str) -> String {
    format!("cpu {side} {workload}")
}

/// The CPU table: cores used by the broker and by the load generator in each
/// measured span, to show which side a figure was limited by.
fn cpu_rows(rabbit: &Figures, warren: &Figures) -> Vec<Row> {
    let mut rows = Vec::new();
    for (workload, label) in [
        ("transient", "16 B transient"),
        ("persistent", "16 B persistent, confirms"),
        ("body_4k", "4 KiB transient"),
        ("latency", "latency at 10k msg/s"),
    ] {
        for (side, who) in [("broker", "broker"), ("loadgen", "load generator")] {
            let key = cpu_key(side, workload);
            rows.push(Row {
                name: format!("{label}: {who} CPU"),
                unit: "cores",
                rabbit: rabbit.get(&key).copied(),
                warren: warren.get(&key).copied(),
                goal: Goal::Informational,
            });
        }
    }
    rows
}

/// A message count as the table says it: 1M, 200k, 1500.
fn count_label(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n % 1_000 == 0 {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// The table's rows, in the order of the server issue's goals; `messages` is what the
/// memory and recovery workloads stored.
fn rows(rabbit: &Figures, warren: &Figures, messages: u64) -> Vec<Row> {
    let stored = count_label(messages);
    let row = |name: &str, unit, key: &str, goal| Row {
        name: name.to_string(),
        unit,
        rabbit: rabbit.get(key).copied(),
        warren: warren.get(key).copied(),
        goal,
    };
    vec![
        row(
            "1 publisher / 1 consumer, 16 B transient, unthrottled: consumed",
            "msg/s",
            "transient",
            Goal::AtLeastTimes(3.0),
        ),
        row(
            "16 B persistent to a durable queue, confirms (window 1000), acks: consumed",
            "msg/s",
            "persistent",
            Goal::AtLeastTimes(3.0),
        ),
        row(
            "4 KiB transient bodies: consumed",
            "msg/s",
            "body_4k",
            Goal::AtLeastTimes(3.0),
        ),
        row(
            "latency at 10k msg/s: p99",
            "ms",
            "p99",
            Goal::AtMostTimes(0.5),
        ),
        row(
            "latency at 10k msg/s: p50",
            "ms",
            "p50",
            Goal::Informational,
        ),
        row(
            "latency at 10k msg/s: p99.9",
            "ms",
            "p999",
            Goal::Informational,
        ),
        row(
            &format!("{stored} queued 16 B messages: RSS growth"),
            "MB",
            "memory",
            Goal::AtMostTimes(0.1),
        ),
        row(
            "start to accepting AMQP (first boot)",
            "ms",
            "startup",
            Goal::WarrenAtMost(50.0),
        ),
        row(
            &format!("restart after kill -9 with {stored} confirmed persistent 16 B messages: until the queue reports them all"),
            "ms",
            "recovery",
            Goal::Informational,
        ),
        row(
            "the same restart: until accepting AMQP",
            "ms",
            "recovery_accepting",
            Goal::Informational,
        ),
    ]
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// A throughput run with `extra` arguments. Consumers ack every 100 deliveries with a
/// prefetch of 1000: with no-ack consumers a broker that does not throttle publishers
/// (Warren, below its memory watermark) can push deliveries faster than amqprs hands
/// them to the application, and amqprs then buffers them without bound and slows to a
/// crawl: the figure would measure the client's buffering, not the broker. A prefetch
/// window is also what production consumers use.
fn throughput(extra: &[&str]) -> Vec<String> {
    let mut args = strings(&["throughput", "--ack-every", "100", "--prefetch", "1000"]);
    args.extend(strings(extra));
    args
}

/// Installs Debian's rabbitmq-server when missing, as `tests/differential-ci.sh` does.
fn ensure_rabbitmq() -> Result<(), Failure> {
    if cmd::which("rabbitmq-server").is_some() {
        return Ok(());
    }
    let root = cmd::output(Command::new("id").arg("-u"))
        .ok()
        .flatten()
        .is_some_and(|uid| uid.trim() == "0");
    if !root || cmd::which("apt-get").is_none() {
        return Err(Failure(
            "rabbitmq-server is not installed and cannot be installed here (needs root and apt)"
                .into(),
        ));
    }
    let install = || {
        let mut apt = Command::new("apt-get");
        apt.env("DEBIAN_FRONTEND", "noninteractive").args([
            "install",
            "-y",
            "-q",
            "rabbitmq-server",
        ]);
        cmd::run(&mut apt)
    };
    install().or_else(|_| {
        cmd::run(Command::new("apt-get").args(["update", "-q"]))?;
        install()
    })
}

/// Distinct free ports outside the ephemeral range (see `tests/free-ports.py` for why).
fn free_ports(root: &Path, count: usize) -> Result<Vec<u16>, Failure> {
    let mut command = Command::new("python3");
    command
        .current_dir(root)
        .args(["tests/free-ports.py", &count.to_string()]);
    let text = cmd::output(&mut command)
        .map_err(|e| cmd::spawn_error("python3 tests/free-ports.py", &e))?
        .ok_or_else(|| Failure("tests/free-ports.py failed".into()))?;
    let ports: Vec<u16> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    if ports.len() == count {
        Ok(ports)
    } else {
        Err(Failure(format!("tests/free-ports.py printed {text:?}")))
    }
}

/// The brokers' state directories, removed at the end (it is declared before the
/// brokers, so it is dropped after they stopped).
struct WorkDir(PathBuf);

impl WorkDir {
    fn create() -> Result<WorkDir, Failure> {
        let path = std::env::temp_dir().join(format!("warren-bench-server-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
        Ok(WorkDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_run_or_the_lower_middle_one() {
        let mut samples = Samples::new();
        samples.insert("odd".into(), vec![90.0, 70.0, 110.0]);
        samples.insert("even".into(), vec![4.0, 1.0, 3.0, 2.0]);
        samples.insert("one".into(), vec![5.0]);
        samples.insert("none".into(), vec![]);
        let m = medians(&samples);
        assert_eq!(m.get("odd"), Some(&90.0));
        assert_eq!(m.get("even"), Some(&2.0));
        assert_eq!(m.get("one"), Some(&5.0));
        assert_eq!(m.get("none"), None);
    }

    #[test]
    fn counts_are_labelled_in_round_thousands_or_millions() {
        assert_eq!(count_label(1_000_000), "1M");
        assert_eq!(count_label(200_000), "200k");
        assert_eq!(count_label(1_500_000), "1500k");
        assert_eq!(count_label(1_234), "1234");
    }
}
