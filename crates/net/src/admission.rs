//! Admission of connections: a semaphore of a listener's connection limit (`network.max_connections`, `kafka.max_connections`). A connection
//! holds its permit for as long as it lives; a reload resizes the semaphore (a lower limit is
//! reached as connections close, never by cutting existing ones).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The permits, sized to the configured limit.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    /// (permits the semaphore should have in all, permits still to forget when they come
    /// back after the limit was lowered)
    sizing: Mutex<(usize, usize)>,
}

impl Admission {
    pub fn new(max: usize) -> Admission {
        Admission {
            permits: Arc::new(Semaphore::new(max)),
            sizing: Mutex::new((max, 0)),
        }
    }

    /// A permit for a new connection under the limit `max` (the live configuration), or
    /// `None` at the limit.
    pub fn admit(&self, max: usize) -> Option<OwnedSemaphorePermit> {
        {
            let mut sizing = self.sizing.lock().unwrap_or_else(PoisonError::into_inner);
            let (total, owed) = &mut *sizing;
            if max > *total {
                let more = max - *total;
                // Raising the limit first cancels what a lowering still owed.
                let cancelled = more.min(*owed);
                *owed -= cancelled;
                self.permits.add_permits(more - cancelled);
                *total = max;
            } else if max < *total {
                *owed += *total - max;
                *total = max;
            }
            if *owed > 0 {
                let forgotten = self.permits.forget_permits(*owed);
                *owed -= forgotten;
            }
        }
        self.permits.clone().try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_enforced_and_follows_reloads() {
        let a = Admission::new(2);
        let first = a.admit(2).expect("under the limit");
        let _second = a.admit(2).expect("under the limit");
        assert!(a.admit(2).is_none(), "at the limit");
        // Lowered to 1 with 2 open: nobody is cut, and a closing connection frees no room.
        assert!(a.admit(1).is_none());
        drop(first);
        assert!(a.admit(1).is_none(), "still 1 open, the new limit");
        // Raised to 3: room for two more.
        let _third = a.admit(3).expect("raised");
        let _fourth = a.admit(3).expect("raised");
        assert!(a.admit(3).is_none());
    }
}
