//! Operation numbers carried in the header's `opcode` byte.
//!
//! The table in `docs/protocol.md` is authoritative; numbers are never reused. 0x00 is reserved
//! for error frames that answer no particular request (for example a frame whose header could
//! not be read).

/// A known operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// Reserved: connection-level error frames that answer no decodable request.
    Connection = 0x00,
    /// Version negotiation; the first frame on every connection.
    Hello = 0x01,
    /// Liveness check; the payload is echoed back.
    Ping = 0x02,
    /// Orderly close, sent by either side.
    Goodbye = 0x03,
}

impl Opcode {
    /// Maps a raw opcode byte to a known operation.
    pub fn from_u8(raw: u8) -> Option<Opcode> {
        Some(match raw {
            0x00 => Opcode::Connection,
            0x01 => Opcode::Hello,
            0x02 => Opcode::Ping,
            0x03 => Opcode::Goodbye,
            _ => return None,
        })
    }

    /// The raw opcode byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Upper-case name, as used in docs and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Connection => "CONNECTION",
            Opcode::Hello => "HELLO",
            Opcode::Ping => "PING",
            Opcode::Goodbye => "GOODBYE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip() {
        for raw in 0..=u8::MAX {
            if let Some(op) = Opcode::from_u8(raw) {
                assert_eq!(op.as_u8(), raw);
            }
        }
    }
}
