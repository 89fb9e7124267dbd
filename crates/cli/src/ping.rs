//! `memstream ping`: connect, handshake, and time PING round trips.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Connects to `server` and sends `count` PINGs of `size` bytes, one at a time.
pub fn run(server: &crate::remote::ServerArg, count: u32, size: usize) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client =
            memstream_client::Client::connect_with(server.server.as_str(), server.options()?)
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", server.server))?;
        let info = client.server();
        println!(
            "connected to {} {} (node {}, protocol v{}, max frame {} bytes)",
            info.server_name,
            info.server_version,
            info.server_id,
            info.version,
            info.limits.max_frame_bytes
        );
        let payload = Bytes::from(vec![0x6d; size]);
        let mut rtts = Vec::with_capacity(count as usize);
        for seq in 1..=count {
            let start = Instant::now();
            let echoed = client.ping(payload.clone()).await?;
            let rtt = start.elapsed();
            anyhow::ensure!(echoed == payload, "server echoed different bytes");
            println!(
                "reply from {}: seq={seq} bytes={} time={:.3} ms",
                server.server,
                echoed.len(),
                rtt.as_secs_f64() * 1e3
            );
            rtts.push(rtt);
        }
        if let (Some(min), Some(max)) = (rtts.iter().min(), rtts.iter().max()) {
            let avg = rtts.iter().sum::<Duration>() / rtts.len() as u32;
            println!(
                "{count} replies: min {:.3} ms, avg {:.3} ms, max {:.3} ms",
                min.as_secs_f64() * 1e3,
                avg.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            );
        }
        client.close().await?;
        Ok(ExitCode::SUCCESS)
    })
}
