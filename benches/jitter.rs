//! How late this machine delivers a message handed from one thread to another: a sender
//! paced at one message every 20 µs (50,000 a second, the rate of the latency benchmark)
//! and a chain of `HOPS` threads passing each message on over std channels; latency is
//! counted from each message's due time, as `memstream bench --rate` counts it. No network,
//! no server: this is the floor any multi-threaded pipeline on the machine stands on.
//!
//! ```sh
//! rustc -O benches/jitter.rs -o target/jitter && target/jitter 1 && target/jitter 6
//! ```

use std::sync::mpsc;
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
extern "C" {
    fn prctl(option: i32, ...) -> i32;
}

fn main() {
    let hops: usize = std::env::args()
        .nth(1)
        .and_then(|h| h.parse().ok())
        .unwrap_or(1);
    let n = 250_000usize;
    let (first, mut rx) = mpsc::channel::<Instant>();
    for _ in 1..hops {
        let (tx, next) = mpsc::channel::<Instant>();
        let from = rx;
        std::thread::spawn(move || {
            for m in from {
                let _ = tx.send(m);
            }
        });
        rx = next;
    }
    let sink = std::thread::spawn(move || {
        let mut lat: Vec<u64> = rx
            .iter()
            .map(|due| due.elapsed().as_micros() as u64)
            .collect();
        lat.sort_unstable();
        let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!(
            "{hops} hop(s): p50 {} p90 {} p99 {} p99.9 {} max {} µs",
            q(0.5),
            q(0.9),
            q(0.99),
            q(0.999),
            lat[lat.len() - 1]
        );
    });
    // Sleeps end on time, as in `memstream bench --rate` (PR_SET_TIMERSLACK = 29, 1 ns).
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_TIMERSLACK) changes only this thread's timer slack.
    unsafe {
        prctl(29, 1u64);
    }
    let start = Instant::now();
    for i in 0..n {
        let due = start + Duration::from_micros(20 * i as u64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let _ = first.send(due);
    }
    drop(first);
    let _ = sink.join();
}
