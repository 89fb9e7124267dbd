//! The open connections of every listener, for the admin API's `connections`: who each one
//! is (protocol, peer, client name, principal), how much it did (bytes, requests,
//! subscriptions), and a way to close it.
//!
//! A connection registers when it is accepted and is removed when its [`Registered`] guard
//! drops, so the registry holds exactly the live connections: bounded by the listeners'
//! connection limits. Counters are relaxed atomics updated once per frame or write, never
//! per record.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// The native protocol.
    Native,
    /// The Kafka protocol.
    Kafka,
}

impl Protocol {
    /// `native` or `kafka`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Native => "native",
            Protocol::Kafka => "kafka",
        }
    }
}

/// One open connection.
#[derive(Debug)]
pub struct Conn {
    /// Unique for the server's life.
    pub id: u64,
    /// Its protocol.
    pub protocol: Protocol,
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// Whether it is TLS.
    pub tls: bool,
    /// When it was accepted.
    pub opened: Instant,
    /// The same, in milliseconds since the epoch.
    pub opened_ms: u64,
    client: Mutex<String>,
    principal: Mutex<String>,
    /// Bytes read from it.
    pub bytes_in: AtomicU64,
    /// Bytes written to it.
    pub bytes_out: AtomicU64,
    /// Requests read from it.
    pub requests: AtomicU64,
    /// Its push subscriptions now.
    pub subscriptions: AtomicU32,
    close: Notify,
}

impl Conn {
    /// The client's own name (native HELLO) or id (Kafka `client.id`).
    pub fn client(&self) -> String {
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets the client's name (at most [`CLIENT_NAME_BYTES_MAX`] bytes are kept).
    pub fn set_client(&self, name: &str) {
        let mut end = name.len().min(CLIENT_NAME_BYTES_MAX);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let name = name.get(..end).unwrap_or_default();
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if *client != name {
            name.clone_into(&mut client);
        }
    }

    /// Who it is logged in as (`User:alice`), empty before a login.
    pub fn principal(&self) -> String {
        self.principal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sets the principal.
    pub fn set_principal(&self, principal: &str) {
        principal.clone_into(
            &mut self
                .principal
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// Counts one request of `bytes` read.
    pub fn request_in(&self, bytes: usize) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `bytes` written.
    pub fn wrote(&self, bytes: usize) {
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Asks the connection to close (an administrator's request): its read loop ends as at
    /// shutdown, answering what it has in flight.
    pub fn close(&self) {
        self.close.notify_one();
    }

    /// Resolves when [`close`](Self::close) was called (once, for the connection's loop).
    pub async fn closed(&self) {
        self.close.notified().await;
    }
}

/// Longest client name kept.
pub const CLIENT_NAME_BYTES_MAX: usize = 255;

/// Every open connection.
#[derive(Debug, Default)]
pub struct Registry {
    next: AtomicU64,
    conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
}

impl Registry {
    /// Registers an accepted connection; it is removed when the guard drops.
    pub fn register(
        self: &Arc<Self>,
        protocol: Protocol,
        peer: Option<SocketAddr>,
        tls: bool,
        opened_ms: u64,
    ) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let conn = Arc::new(Conn {
            id,
            protocol,
            peer,
            tls,
            opened: Instant::now(),
            opened_ms,
            client: Mutex::default(),
            principal: Mutex::default(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            subscriptions: AtomicU32::new(0),
            close: Notify::new(),
        });
        self.lock().insert(id, conn.clone());
        Registered {
            registry: self.clone(),
            conn,
        }
    }

    /// Every open connection, oldest first.
    pub fn list(&self) -> Vec<Arc<Conn>> {
        self.lock().values().cloned().collect()
    }

    /// The connection `id`, while it is open.
    pub fn get(&self, id: u64) -> Option<Arc<Conn>> {
        self.lock().get(&id).cloned()
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection's place in the [`Registry`], for as long as it lives.
#[derive(Debug)]
pub struct Registered {
    registry: Arc<Registry>,
    conn: Arc<Conn>,
}

impl Registered {
    /// The connection's entry.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.conn.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_listed_while_registered_and_counted() {
        let registry = Arc::new(Registry::default());
        let a = registry.register(Protocol::Native, None, false, 1);
        let b = registry.register(Protocol::Kafka, None, true, 2);
        assert_eq!(registry.len(), 2);
        a.conn().request_in(40);
        a.conn().request_in(60);
        a.conn().wrote(7);
        a.conn().set_client(&"x".repeat(300));
        b.conn().set_principal("User:alice");
        let listed = registry.list();
        assert_eq!(listed[0].requests.load(Ordering::Relaxed), 2);
        assert_eq!(listed[0].bytes_in.load(Ordering::Relaxed), 100);
        assert_eq!(listed[0].client().len(), CLIENT_NAME_BYTES_MAX);
        assert_eq!(registry.get(b.conn().id).unwrap().principal(), "User:alice");
        drop(a);
        assert_eq!(registry.len(), 1);
        drop(b);
        assert!(registry.is_empty());
    }

    #[tokio::test]
    async fn close_wakes_the_connection_even_when_asked_before_it_waits() {
        let registry = Arc::new(Registry::default());
        let a = registry.register(Protocol::Native, None, false, 1);
        a.conn().close();
        tokio::time::timeout(std::time::Duration::from_secs(60), a.conn().closed())
            .await
            .expect("a stored close is seen");
    }
}
