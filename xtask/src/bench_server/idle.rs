//! Waiting for a broker to go quiet before the next workload.
//!
//! A workload leaves work behind: RabbitMQ deletes a queue of a million messages and
//! garbage-collects their heaps after `queue.delete-ok`, Warren frees its backlog. Work
//! still running when the next workload starts would be charged to that workload (the
//! first RabbitMQ run put a p99 of 43 ms on the latency workload that way), so each
//! workload starts only once the brokers together use less than a few percent of a core.

use std::thread::sleep;
use std::time::{Duration, Instant};

/// Below this many cores (all the watched processes together) the brokers count as idle.
const IDLE_CORES: f64 = 0.05;
/// How long each CPU sample spans.
const SAMPLE: Duration = Duration::from_millis(500);
/// Give up waiting (and say so) after this long.
const PATIENCE: Duration = Duration::from_secs(30);
/// USER_HZ: the unit of /proc/PID/stat's CPU times on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// Waits until the processes in `pids` are idle together; prints how long that took
/// when they were not idle at once.
pub fn wait_until_idle(pids: &[u32]) {
    let start = Instant::now();
    let mut cores = f64::NAN;
    let total = || pids.iter().map(|&pid| cpu_ticks(pid)).sum::<Option<u64>>();
    while start.elapsed() < PATIENCE {
        let Some(before) = total() else { return };
        sleep(SAMPLE);
        let Some(after) = total() else { return };
        cores = after.saturating_sub(before) as f64 / TICKS_PER_SECOND / SAMPLE.as_secs_f64();
        if cores < IDLE_CORES {
            if start.elapsed() > SAMPLE * 2 {
                println!(
                    "(brokers idle after {:.1} s)",
                    start.elapsed().as_secs_f64()
                );
            }
            return;
        }
    }
    println!("(brokers still busy after {PATIENCE:?}: {cores:.2} cores; going on)");
}

/// utime + stime of a process, in ticks; `None` once it is gone.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat)
}

/// Fields 14 and 15, counted after the `(comm)` field (which may contain spaces).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime() {
        let stat = "7 (beam.smp) S 1 7 7 0 -1 4194560 100 0 0 0 1250 31 0 0 20 0 40 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1281));
        assert!(cpu_ticks(std::process::id()).is_some());
    }
}
