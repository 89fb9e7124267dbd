//! The failed-authentication throttle: per client address, failures counted in one-minute
//! windows; an address past `auth.max_failures_per_minute` fails without its credentials
//! being checked until its window ends. At most `auth.max_tracked_addresses` addresses are
//! remembered; when full the one whose window started first is forgotten. Time is an argument
//! (milliseconds on any monotonic clock), so the rules are tested without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// The window failures are counted in.
pub const WINDOW_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: u64,
    failures: u32,
}

/// Failures per address.
#[derive(Debug)]
pub struct Throttle {
    windows: Mutex<HashMap<IpAddr, Window>>,
    max_failures: AtomicU32,
    max_addresses: usize,
}

impl Throttle {
    /// A throttle allowing `max_failures` per minute per address, remembering at most
    /// `max_addresses` addresses.
    pub fn new(max_failures: u32, max_addresses: usize) -> Throttle {
        Throttle {
            windows: Mutex::new(HashMap::new()),
            max_failures: AtomicU32::new(max_failures.max(1)),
            max_addresses: max_addresses.max(1),
        }
    }

    /// Changes the failures allowed per minute (a config reload).
    pub fn set_max_failures(&self, max_failures: u32) {
        self.max_failures
            .store(max_failures.max(1), Ordering::Relaxed);
    }

    /// Whether `ip` may try to authenticate at `now_ms`.
    pub fn allows(&self, ip: IpAddr, now_ms: u64) -> bool {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get(&ip) {
            Some(w) if now_ms.saturating_sub(w.start_ms) < WINDOW_MS => {
                w.failures < self.max_failures.load(Ordering::Relaxed)
            }
            _ => true,
        }
    }

    /// Counts a failure of `ip` at `now_ms`.
    pub fn failed(&self, ip: IpAddr, now_ms: u64) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = windows.get_mut(&ip) {
            if now_ms.saturating_sub(w.start_ms) < WINDOW_MS {
                w.failures = w.failures.saturating_add(1);
            } else {
                *w = Window {
                    start_ms: now_ms,
                    failures: 1,
                };
            }
            return;
        }
        if windows.len() >= self.max_addresses {
            let oldest = windows
                .iter()
                .min_by_key(|(_, w)| w.start_ms)
                .map(|(ip, _)| *ip);
            if let Some(oldest) = oldest {
                windows.remove(&oldest);
            }
        }
        windows.insert(
            ip,
            Window {
                start_ms: now_ms,
                failures: 1,
            },
        );
    }

    /// Addresses remembered now.
    pub fn tracked(&self) -> usize {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn an_address_past_its_failures_waits_for_the_window() {
        let t = Throttle::new(3, 100);
        for at in [0, 10, 20] {
            assert!(t.allows(ip(1), at));
            t.failed(ip(1), at);
        }
        assert!(!t.allows(ip(1), 30));
        assert!(t.allows(ip(2), 30), "other addresses are not affected");
        assert!(!t.allows(ip(1), WINDOW_MS - 1));
        assert!(t.allows(ip(1), WINDOW_MS));
        t.failed(ip(1), WINDOW_MS);
        assert!(
            t.allows(ip(1), WINDOW_MS + 1),
            "a new window starts at one failure"
        );
        t.set_max_failures(1);
        assert!(!t.allows(ip(1), WINDOW_MS + 2));
    }

    #[test]
    fn the_address_table_stays_bounded() {
        let t = Throttle::new(1, 4);
        for n in 0..50u8 {
            t.failed(ip(n), u64::from(n));
            assert!(t.tracked() <= 4);
        }
        assert!(!t.allows(ip(49), 49));
        assert!(t.allows(ip(0), 49), "the oldest was forgotten");
    }
}
