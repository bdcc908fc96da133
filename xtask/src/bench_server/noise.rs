//! How calm the machine is: the share of time a busy thread per core did not run.
//!
//! This VM shares its host. Now and then the host takes a core away for a few
//! milliseconds, and whatever runs there, broker or load generator, stops. Such stalls
//! set the latency tail of both brokers alike (a 4 ms stall every few hundred ms puts
//! more than 1% of messages 4 ms late), so a p99 figure means little without them.
//! Before each round the driver spins one thread per core for a second, reading the
//! clock, and counts the gaps: a gap longer than [`GAP`] is time that thread was not
//! running. The report lists the figure beside each round's runs.

use std::thread;
use std::time::{Duration, Instant};

/// A clock reading this long after the previous one means the thread was stalled.
const GAP: Duration = Duration::from_micros(200);

/// What one measurement found, over all spinning threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stalls {
    /// Share of the spinning threads' time lost to gaps, in percent.
    pub lost_percent: f64,
    /// The longest gap, in milliseconds.
    pub longest_ms: f64,
}

/// Spins `threads` threads for `span` and sums what they lost.
pub fn measure(threads: usize, span: Duration) -> Stalls {
    let gaps: Vec<Vec<Duration>> = thread::scope(|scope| {
        let spinners: Vec<_> = (0..threads.max(1))
            .map(|_| scope.spawn(move || spin(span)))
            .collect();
        spinners
            .into_iter()
            .filter_map(|spinner| spinner.join().ok())
            .collect()
    });
    summarize(&gaps, span)
}

/// The gaps one spinning thread saw.
fn spin(span: Duration) -> Vec<Duration> {
    let start = Instant::now();
    let mut last = start;
    let mut gaps = Vec::new();
    while last - start < span {
        let now = Instant::now();
        let gap = now - last;
        if gap > GAP {
            gaps.push(gap);
        }
        last = now;
    }
    gaps
}

fn summarize(gaps: &[Vec<Duration>], span: Duration) -> Stalls {
    let spun = span.as_secs_f64() * gaps.len().max(1) as f64;
    let lost: f64 = gaps.iter().flatten().map(Duration::as_secs_f64).sum();
    let longest = gaps.iter().flatten().max().copied().unwrap_or_default();
    Stalls {
        lost_percent: 100.0 * lost / spun,
        longest_ms: longest.as_secs_f64() * 1e3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalls_are_the_gaps_over_the_time_spun() {
        let ms = Duration::from_millis;
        let found = summarize(&[vec![ms(4), ms(6)], vec![ms(10)]], Duration::from_secs(1));
        assert!((found.lost_percent - 1.0).abs() < 1e-9, "{found:?}");
        assert!((found.longest_ms - 10.0).abs() < 1e-9, "{found:?}");
        assert_eq!(summarize(&[vec![], vec![]], ms(500)).lost_percent, 0.0);
    }
}
