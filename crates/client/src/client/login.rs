//! Logging in after HELLO when the server asks for it: SCRAM (SCRAM-SHA-512 when offered,
//! else SCRAM-SHA-256) over AUTH frames, with the server's final signature checked, so a
//! server that does not know the password cannot pass for one that does.

use futures_util::{SinkExt, StreamExt};
use memstream_auth::scram::{Mechanism, ScramClient};
use memstream_protocol::message::{AuthRequest, AuthResponse};
use memstream_protocol::{Frame, FrameCodec, HelloResponse, Opcode, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::connection::checked;
use super::{error_from, ClientOptions};
use crate::error::ClientError;

/// Runs the exchange on a connection whose HELLO listed `server.auth_mechanisms`.
pub(super) async fn login<R, W>(
    reader: &mut FramedRead<R, FrameCodec>,
    writer: &mut FramedWrite<W, FrameCodec>,
    server: &HelloResponse,
    options: &ClientOptions,
) -> Result<(), ClientError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Some(credentials) = &options.credentials else {
        return Err(ClientError::Auth(
            "the server requires authentication: give a user and password (--user NAME \
             --password-file FILE, or MEMSTREAM_USER and MEMSTREAM_PASSWORD)"
                .into(),
        ));
    };
    let offered = |m: Mechanism| server.auth_mechanisms.iter().any(|o| o == m.name());
    let mechanism = [Mechanism::ScramSha512, Mechanism::ScramSha256]
        .into_iter()
        .find(|m| offered(*m))
        .ok_or_else(|| {
            ClientError::Auth(format!(
                "the server offers no mechanism this client speaks ({})",
                server.auth_mechanisms.join(", ")
            ))
        })?;
    let mut scram = ScramClient::new(mechanism, &credentials.user, &credentials.password)
        .map_err(|e| ClientError::Auth(e.to_string()))?;
    let first = scram.client_first();
    let challenge = step(reader, writer, mechanism, first, 2).await?;
    if challenge.done {
        return Err(ClientError::Auth(
            "the server ended the exchange early".into(),
        ));
    }
    // PBKDF2 with the server's iteration count: off the async runtime.
    let (scram, proof) = tokio::task::spawn_blocking(move || {
        let proof = scram.server_first(&challenge.data);
        (scram, proof)
    })
    .await
    .map_err(|e| ClientError::Auth(format!("the key derivation failed: {e}")))?;
    let mut scram = scram;
    let proof = proof.map_err(|e| ClientError::Auth(e.to_string()))?;
    let fin = step(reader, writer, mechanism, proof, 3).await?;
    if !fin.done {
        return Err(ClientError::Auth(
            "the server asked for a third step".into(),
        ));
    }
    scram
        .server_final(&fin.data)
        .map_err(|e| ClientError::Auth(format!("the server's signature: {e}")))
}

async fn step<R, W>(
    reader: &mut FramedRead<R, FrameCodec>,
    writer: &mut FramedWrite<W, FrameCodec>,
    mechanism: Mechanism,
    data: Vec<u8>,
    correlation_id: u64,
) -> Result<AuthResponse, ClientError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let request = Request::Auth(AuthRequest {
        mechanism: mechanism.name().into(),
        data: data.into(),
    });
    writer.send(checked(&request, correlation_id)?).await?;
    let reply: Frame = reader
        .next()
        .await
        .ok_or(ClientError::Closed { reason: None })??;
    if reply.is_error() {
        return Err(error_from(&reply));
    }
    if reply.opcode != Opcode::Auth.as_u8() || reply.correlation_id != correlation_id {
        return Err(ClientError::Malformed(format!(
            "expected the AUTH response {correlation_id}, got opcode {:#04x}",
            reply.opcode
        )));
    }
    AuthResponse::decode(&reply.payload).map_err(|e| ClientError::Malformed(e.to_string()))
}
