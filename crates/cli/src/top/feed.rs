//! The live view `memstream top` draws: `GET /api/v1/events` on the admin listener (HTTP/1.1
//! with hyper, over TLS with `--tls`), read as Server-Sent Events into [`Snapshot`]s.

use std::sync::Arc;

use anyhow::{bail, Context as _};
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Longest SSE event accepted (a snapshot of many streams is large; more is a broken feed).
pub const EVENT_BYTES_MAX: usize = 16 << 20;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Connections {
    pub native: u64,
    pub kafka: u64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct StreamRow {
    pub name: String,
    pub partitions: u64,
    pub storage: String,
    pub records: u64,
    pub bytes: u64,
    pub produce_records_per_sec: f64,
    pub consume_records_per_sec: f64,
    pub produce_bytes_per_sec: f64,
    pub consume_bytes_per_sec: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupRow {
    pub name: String,
    pub state: String,
    pub members: u64,
    pub total_lag: u64,
}

/// One `snapshot` event.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub uptime_ms: u64,
    pub connections: Connections,
    pub produce_records_per_sec: f64,
    pub produce_bytes_per_sec: f64,
    pub consume_records_per_sec: f64,
    pub consume_bytes_per_sec: f64,
    pub records: u64,
    pub bytes: u64,
    pub disk_bytes: u64,
    pub total_lag: u64,
    pub streams: Vec<StreamRow>,
    pub groups: Vec<GroupRow>,
}

/// What the feed says: the last snapshot, or why there is none.
#[derive(Clone, Debug)]
pub enum Feed {
    Connecting,
    Live(Box<Snapshot>),
    Down(String),
}

/// Where and how to read the feed.
#[derive(Clone)]
pub struct Target {
    pub admin: String,
    /// `Authorization` header value.
    pub authorization: Option<String>,
    /// TLS: the configuration and the server name.
    pub tls: Option<(Arc<rustls::ClientConfig>, String)>,
}

/// Reads the feed into `tx` until the receiver is gone; reconnects after a failure.
pub async fn follow(target: Target, tx: watch::Sender<Feed>) {
    let mut delay = std::time::Duration::from_millis(500);
    loop {
        let result = read(&target, &tx).await;
        if tx.is_closed() {
            return;
        }
        let why = match result {
            Ok(()) => "the server ended the event stream".to_owned(),
            Err(e) => format!("{e:#}"),
        };
        let _ = tx.send(Feed::Down(format!("{why}; retrying")));
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(5));
    }
}

async fn read(target: &Target, tx: &watch::Sender<Feed>) -> anyhow::Result<()> {
    let tcp = TcpStream::connect(&target.admin)
        .await
        .with_context(|| format!("cannot connect to the admin listener {}", target.admin))?;
    let _ = tcp.set_nodelay(true);
    match &target.tls {
        None => events(TokioIo::new(tcp), target, tx).await,
        Some((config, host)) => {
            let name = rustls_pki_types::ServerName::try_from(host.clone())
                .with_context(|| format!("{host} is not a valid server name"))?;
            let stream = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .context("TLS handshake with the admin listener")?;
            events(TokioIo::new(stream), target, tx).await
        }
    }
}

async fn events<I>(io: I, target: &Target, tx: &watch::Sender<Feed>) -> anyhow::Result<()>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(connection);
    let mut request = hyper::Request::get("/api/v1/events")
        .header(hyper::header::HOST, target.admin.as_str())
        .header(hyper::header::ACCEPT, "text/event-stream");
    if let Some(auth) = &target.authorization {
        request = request.header(hyper::header::AUTHORIZATION, auth.as_str());
    }
    let response = sender
        .send_request(request.body(http_body_util::Empty::<bytes::Bytes>::new())?)
        .await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.into_body().collect().await?.to_bytes();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        bail!("the admin API answered {status}: {message}");
    }
    let mut body = response.into_body();
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        buffer.extend_from_slice(&data);
        while let Some(end) = find(&buffer, b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            if let Some(snapshot) = parse(&event)? {
                if tx.send(Feed::Live(Box::new(snapshot))).is_err() {
                    return Ok(());
                }
            }
        }
        if buffer.len() > EVENT_BYTES_MAX {
            bail!("an event of over {EVENT_BYTES_MAX} bytes");
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The snapshot in one SSE event (its `data:` lines), if it is one.
pub fn parse(event: &[u8]) -> anyhow::Result<Option<Snapshot>> {
    let text = std::str::from_utf8(event).context("an event that is not UTF-8")?;
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect();
    if data.is_empty() {
        return Ok(None);
    }
    let snapshot = serde_json::from_str(&data.join("\n")).context("a snapshot that is not JSON")?;
    Ok(Some(snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_parses_and_others_are_skipped() {
        let event = b"event: snapshot\ndata: {\"total_lag\":7,\"streams\":[{\"name\":\"a\"}],\"future\":1}\n\n";
        let s = parse(event).unwrap().unwrap();
        assert_eq!((s.total_lag, s.streams[0].name.as_str()), (7, "a"));
        assert!(parse(b": keep-alive\n\n").unwrap().is_none());
        assert!(parse(b"data: {not json\n\n").is_err());
    }
}
