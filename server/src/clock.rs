//! The broker core's clock on the server: milliseconds since the Unix epoch.
//!
//! Why wall-clock time: RabbitMQ's own clock is, and clients can see it.
//! The `time` of an `x-death` entry is a timestamp, and a persistent
//! message's expiry is a point in time that a restart does not move: a
//! message whose TTL ran out while the broker was down is dead-lettered as
//! soon as it is back. With the store recording each message's publish time
//! on this clock, both come out as in RabbitMQ.
//!
//! The wall clock is read once, at start; from there time is counted on a
//! monotonic `Instant`, so an NTP step during a run never makes the core's
//! time go backwards (the core assumes it does not).

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use warren_core::protocol::Millis;

/// Now, in milliseconds since the Unix epoch (0 if the system clock is set
/// before it).
pub fn wall_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// The core's time, tied to a monotonic start instant.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
    /// The core's time at `start`.
    origin: Millis,
}

impl Clock {
    /// A clock reading the wall clock now.
    pub fn starting_now() -> Clock {
        Clock {
            start: Instant::now(),
            origin: wall_now(),
        }
    }

    pub fn now(&self) -> Millis {
        self.origin
            .saturating_add(self.start.elapsed().as_millis() as Millis)
    }

    /// When the core's time `t` comes (now, if it has passed).
    pub fn instant_of(&self, t: Millis) -> Instant {
        self.start + Duration::from_millis(t.saturating_sub(self.origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_wall_time_and_maps_core_times_back_to_instants() {
        let before = wall_now();
        let clock = Clock::starting_now();
        let now = clock.now();
        assert!(now >= before && now <= wall_now(), "{before} {now}");
        // A time already past maps to the start, a later one after it.
        assert_eq!(clock.instant_of(0), clock.start);
        assert_eq!(
            clock.instant_of(clock.origin + 1500),
            clock.start + Duration::from_millis(1500)
        );
    }
}
