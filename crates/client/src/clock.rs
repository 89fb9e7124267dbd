//! A cheap wall clock for record timestamps: the CPU's time-stamp counter (through `quanta`),
//! anchored to the system clock and re-anchored every second, so a busy producer does not
//! pay a system-clock read per record and timestamps follow the system clock's adjustments.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a reading of the system clock is extended with the counter.
const ANCHOR_FOR: Duration = Duration::from_secs(1);

/// Milliseconds since the Unix epoch, read cheaply.
pub(crate) struct WallClock {
    clock: quanta::Clock,
    anchor: quanta::Instant,
    anchor_ms: u64,
}

impl WallClock {
    pub(crate) fn new() -> WallClock {
        let clock = quanta::Clock::new();
        let anchor = clock.now();
        WallClock {
            clock,
            anchor,
            anchor_ms: system_ms(),
        }
    }

    /// The current time in ms since the Unix epoch.
    pub(crate) fn now_ms(&mut self) -> u64 {
        let now = self.clock.now();
        let since = now.saturating_duration_since(self.anchor);
        if since >= ANCHOR_FOR {
            self.anchor = now;
            self.anchor_ms = system_ms();
            return self.anchor_ms;
        }
        self.anchor_ms + since.as_millis() as u64
    }
}

/// The system clock in ms since the Unix epoch.
pub(crate) fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_system_clock() {
        let mut clock = WallClock::new();
        let before = system_ms();
        let read = clock.now_ms();
        let after = system_ms();
        // The counter extends a reading taken at construction: never behind it, and never
        // ahead of the system clock by more than the rounding of one millisecond.
        assert!(
            read + 1 >= before && read <= after + 1,
            "{before} {read} {after}"
        );
    }
}
