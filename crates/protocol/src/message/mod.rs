//! Typed payloads and request decoding.
//!
//! Each message has `encode(&self, dst: &mut BytesMut)` and `decode(payload) -> Result<_,
//! PayloadError>`. Decoding reads through [`reader::PayloadReader`], which bounds-checks every
//! field, so no payload can make a decoder panic, and refuses trailing bytes.

mod error_body;
mod hello;
pub(crate) mod reader;
mod request;

pub use error_body::{ErrorBody, ERROR_MESSAGE_BYTES_MAX};
pub use hello::{HelloRequest, HelloResponse, LimitId, Limits, NAME_BYTES_MAX};
pub use request::Request;
