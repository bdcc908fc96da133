//! A process's resident memory and CPU time, read from `/proc/PID/`.
//!
//! VmRSS is what the kernel actually backs with RAM, which is the cost an operator pays
//! for queued messages, whatever the broker's own allocator statistics say. CPU time
//! shows, on a machine where the load generator shares the cores with the broker, how
//! much of the machine each side took.

use std::time::Instant;

use crate::{Error, Field};

/// The process's resident set size in bytes.
pub fn rss(pid: u32) -> Result<u64, Error> {
    let path = format!("/proc/{pid}/status");
    let status =
        std::fs::read_to_string(&path).map_err(|e| Error(format!("reading {path}: {e}")))?;
    parse_vm_rss(&status).ok_or_else(|| Error(format!("{path}: no VmRSS line")))
}

/// Finds `VmRSS:   1234 kB` and returns it in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        _ => None,
    }
}

/// User plus system CPU time the process (all its threads) has used, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64, Error> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| Error(format!("reading {path}: {e}")))?;
    parse_cpu_ticks(&stat).ok_or_else(|| Error(format!("{path}: unexpected format")))
}

/// utime + stime: fields 14 and 15, counted after the `(comm)` field, which may itself
/// contain spaces and parentheses (so the split starts at its last `)`).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace().skip(11); // state is field 3
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second of `/proc/*/stat` (USER_HZ): 100 on every Linux this runs on,
/// asked of `getconf` in case one differs.
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|hz| *hz > 0.0)
        .unwrap_or(100.0)
}

/// CPU use of some processes over a span, as cores (1.0 = one core busy throughout).
pub struct CpuMeter {
    pids: Vec<u32>,
    start_ticks: Vec<u64>,
    start: Instant,
    hz: f64,
}

impl CpuMeter {
    pub fn start(pids: &[u32]) -> Result<CpuMeter, Error> {
        let start_ticks = pids
            .iter()
            .map(|&p| cpu_ticks(p))
            .collect::<Result<_, _>>()?;
        Ok(CpuMeter {
            pids: pids.to_vec(),
            start_ticks,
            start: Instant::now(),
            hz: ticks_per_second(),
        })
    }

    /// Cores used by each process since `start`, in the order given.
    pub fn cores(&self) -> Result<Vec<f64>, Error> {
        let seconds = self.start.elapsed().as_secs_f64().max(1e-9);
        self.pids
            .iter()
            .zip(&self.start_ticks)
            .map(|(&pid, &start)| {
                let used = cpu_ticks(pid)?.saturating_sub(start);
                Ok(used as f64 / self.hz / seconds)
            })
            .collect()
    }
}

/// Cores used by the load generator and (when its pid is known) the broker.
pub struct CpuUse {
    loadgen: f64,
    broker: Option<f64>,
}

impl CpuUse {
    /// Starts counting this process's CPU time, and the broker's.
    pub fn meter(broker: Option<u32>) -> Result<CpuMeter, Error> {
        let mut pids = vec![std::process::id()];
        pids.extend(broker);
        CpuMeter::start(&pids)
    }

    pub fn read(meter: &CpuMeter) -> Result<CpuUse, Error> {
        let cores = meter.cores()?;
        Ok(CpuUse {
            loadgen: cores.first().copied().unwrap_or(0.0),
            broker: cores.get(1).copied(),
        })
    }

    pub fn describe(&self) -> String {
        match self.broker {
            Some(broker) => format!(
                "broker {broker:.2} cores, load generator {:.2}",
                self.loadgen
            ),
            None => format!("load generator {:.2} cores", self.loadgen),
        }
    }

    pub fn fields(&self) -> Vec<Field> {
        let mut fields = vec![("loadgen_cores", format!("{:.2}", self.loadgen))];
        if let Some(broker) = self.broker {
            fields.push(("broker_cores", format!("{broker:.2}")));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_vm_rss_line() {
        let status = "Name:\tbeam.smp\nVmPeak:\t 999 kB\nVmRSS:\t  143204 kB\nThreads:\t40\n";
        assert_eq!(parse_vm_rss(status), Some(143_204 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert_eq!(parse_vm_rss("VmRSS:\t12 MB\n"), None);
    }

    #[test]
    fn reads_utime_and_stime_past_an_awkward_name() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat), Some(281));
        assert_eq!(parse_cpu_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(rss(std::process::id()).unwrap() > 0);
        assert!(cpu_ticks(std::process::id()).is_ok());
    }
}
