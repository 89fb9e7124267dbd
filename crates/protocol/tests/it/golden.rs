//! Golden bytes: the test vectors and tables in `docs/protocol.md` checked against the code.
//!
//! A vector in the doc is a fenced `hex` block preceded by a marker line:
//!
//! ````text
//! <!-- vector: ping-request -->
//! ```hex
//! 4d535452     # magic "MSTR"
//! ...
//! ```
//! ````
//!
//! Inside the block, `#` starts a comment and whitespace is ignored; what remains must be hex
//! digits. Every vector is encoded from the frame built here and compared byte for byte, then
//! decoded back. When a vector is missing or wrong, the failure prints the block to paste.

use std::fmt::Write as _;

use bytes::{Bytes, BytesMut};
use memstream_protocol::message::{
    AclOperation, AclPattern, AclPermission, AclResource, AuthRequest, AuthResponse, CreateAcls,
    WireAcl,
};
use memstream_protocol::{
    ErrorBody, ErrorCode, Frame, FrameCodec, HelloRequest, HelloResponse, Limits, Opcode, Request,
    HEADER_LEN,
};
use tokio_util::codec::{Decoder, Encoder};

const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");

/// Heading of the section holding the error-code table.
const ERROR_SECTION: &str = "## Error codes";
/// Heading of the section holding the opcode table.
const OPCODE_SECTION: &str = "## Opcodes";

fn doc() -> String {
    std::fs::read_to_string(DOC_PATH).unwrap_or_else(|e| panic!("cannot read {DOC_PATH}: {e}"))
}

/// What a vector's payload holds, for decoding it back and annotating it.
#[derive(Debug)]
enum Body {
    HelloRequest(HelloRequest),
    HelloResponse(HelloResponse),
    Auth(AuthRequest),
    AuthResponse(AuthResponse),
    AclCreate(CreateAcls),
    Empty,
    Error(ErrorBody),
}

struct Vector {
    name: &'static str,
    frame: Frame,
    body: Body,
}

fn hello_request() -> HelloRequest {
    HelloRequest::new(1, 1, "memstream-cli")
}

fn hello_response() -> HelloResponse {
    HelloResponse {
        version: 1,
        server_name: "memstream".into(),
        server_version: "0.1.0".into(),
        server_id: 1,
        limits: Limits {
            max_frame_bytes: 1_048_576,
            max_in_flight_requests: 128,
            max_write_queue_bytes: 8_388_608,
            idle_timeout_ms: 300_000,
        },
        auth_mechanisms: Vec::new(),
    }
}

fn auth_request() -> AuthRequest {
    AuthRequest {
        mechanism: "SCRAM-SHA-256".into(),
        data: Bytes::from_static(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
    }
}

fn auth_response() -> AuthResponse {
    AuthResponse {
        done: false,
        data: Bytes::from_static(
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        ),
    }
}

/// A `u32` length and its bytes (text), as annotated lines.
fn data32_fields(out: &mut String, rest: &[u8], name: &str) {
    let (len, rest) = rest.split_at(4);
    let n = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    field(out, len, &format!("{name}_len {n}"));
    for (i, row) in rest[..n].chunks(16).enumerate() {
        let (from, to) = (i * 16, i * 16 + row.len());
        let piece = String::from_utf8_lossy(row);
        field(out, row, &format!("{name}[{from}..{to}] {piece:?}"));
    }
}

/// Every vector the doc must carry, in the order it shows them.
fn vectors() -> Vec<Vector> {
    let hello = hello_request().to_frame(1);
    let mut payload = BytesMut::new();
    hello_response().encode(&mut payload);
    let hello_ok = Frame::response(&hello, payload.freeze());
    let ping = Frame::request(Opcode::Ping, 2, Bytes::new());
    let pong = Frame::response(&ping, Bytes::new());
    let early_ping = Frame::request(Opcode::Ping, 7, Bytes::new());
    let refused = Frame::error_response(
        &early_ping,
        ErrorCode::HandshakeRequired,
        "HELLO must be the first frame",
    );
    let goodbye = Frame::goodbye(ErrorCode::ShuttingDown, "server shutting down");
    // AUTH: the first round trip of RFC 7677's SCRAM-SHA-256 example.
    let hello_auth = HelloResponse {
        auth_mechanisms: vec!["SCRAM-SHA-256".into(), "SCRAM-SHA-512".into()],
        ..hello_response()
    };
    let mut payload = BytesMut::new();
    hello_auth.encode(&mut payload);
    let hello_auth_frame = Frame::response(&hello_request().to_frame(1), payload.freeze());
    let auth = auth_request();
    let mut payload = BytesMut::new();
    auth.encode(&mut payload);
    let auth_frame = Frame::request(Opcode::Auth, 2, payload.freeze());
    let mut payload = BytesMut::new();
    auth_response().encode(&mut payload);
    let auth_ok = Frame::response(&auth_frame, payload.freeze());
    let acl_create = CreateAcls {
        acls: vec![WireAcl {
            principal: "User:alice".into(),
            host: "*".into(),
            resource_type: AclResource::Stream,
            name: "orders-".into(),
            pattern_type: AclPattern::Prefixed,
            operation: AclOperation::Write,
            permission: AclPermission::Allow,
        }],
    };
    let acl_create_frame = Request::CreateAcls(acl_create.clone()).to_frame(3);
    vec![
        Vector {
            name: "hello-request",
            frame: hello,
            body: Body::HelloRequest(hello_request()),
        },
        Vector {
            name: "hello-response",
            frame: hello_ok,
            body: Body::HelloResponse(hello_response()),
        },
        Vector {
            name: "hello-response-auth",
            frame: hello_auth_frame,
            body: Body::HelloResponse(hello_auth),
        },
        Vector {
            name: "auth-request",
            frame: auth_frame,
            body: Body::Auth(auth),
        },
        Vector {
            name: "auth-response",
            frame: auth_ok,
            body: Body::AuthResponse(auth_response()),
        },
        Vector {
            name: "acl-create-request",
            frame: acl_create_frame,
            body: Body::AclCreate(acl_create),
        },
        Vector {
            name: "ping-request",
            frame: ping,
            body: Body::Empty,
        },
        Vector {
            name: "ping-response",
            frame: pong,
            body: Body::Empty,
        },
        Vector {
            name: "error-handshake-required",
            frame: refused,
            body: Body::Error(ErrorBody::new(
                ErrorCode::HandshakeRequired,
                "HELLO must be the first frame",
            )),
        },
        Vector {
            name: "server-goodbye",
            frame: goodbye,
            body: Body::Error(ErrorBody::new(
                ErrorCode::ShuttingDown,
                "server shutting down",
            )),
        },
    ]
}

/// The vectors in the doc: (name, bytes), in document order.
fn doc_vectors(doc: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(name) = line
            .trim()
            .strip_prefix("<!-- vector:")
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            continue;
        };
        let name = name.trim().to_owned();
        let fence = lines
            .by_ref()
            .map(|(_, l)| l.trim())
            .find(|l| !l.is_empty());
        assert_eq!(
            fence,
            Some("```hex"),
            "line {}: vector `{name}` must be followed by a ```hex block",
            n + 1
        );
        let mut digits = String::new();
        let mut closed = false;
        for (m, line) in lines.by_ref() {
            if line.trim() == "```" {
                closed = true;
                break;
            }
            let data = line.split('#').next().unwrap_or("");
            for c in data.chars().filter(|c| !c.is_whitespace()) {
                assert!(
                    c.is_ascii_hexdigit(),
                    "line {}: `{c}` in vector `{name}` is not a hex digit",
                    m + 1
                );
                digits.push(c);
            }
        }
        assert!(closed, "vector `{name}`: unterminated ```hex block");
        out.push((name, hex_decode(&digits)));
    }
    out
}

fn hex_decode(digits: &str) -> Vec<u8> {
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("ASCII hex digits");
            u8::from_str_radix(pair, 16).expect("hex digits")
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut buf = BytesMut::new();
    FrameCodec::new(u32::MAX)
        .encode(frame.clone(), &mut buf)
        .expect("vectors are small");
    buf.to_vec()
}

/// One line of an annotated block: the field's bytes in hex, then a comment.
fn field(out: &mut String, bytes: &[u8], comment: &str) {
    let _ = writeln!(out, "{:<32} # {comment}", hex(bytes));
}

/// A `u16` length and its string, as two annotated lines.
fn str16_fields<'a>(out: &mut String, rest: &'a [u8], name: &str) -> &'a [u8] {
    let (len, rest) = rest.split_at(2);
    let n = usize::from(u16::from_le_bytes([len[0], len[1]]));
    field(out, len, &format!("{name}_len {n}"));
    let (text, rest) = rest.split_at(n);
    if text.len() <= 16 {
        field(
            out,
            text,
            &format!("{name} {:?}", String::from_utf8_lossy(text)),
        );
    } else {
        for (i, row) in text.chunks(16).enumerate() {
            let (from, to) = (i * 16, i * 16 + row.len());
            let piece = String::from_utf8_lossy(row);
            field(out, row, &format!("{name}[{from}..{to}] {piece:?}"));
        }
    }
    rest
}

/// The fenced block for `v`, field by field, as it belongs in the doc.
fn annotated_block(v: &Vector) -> String {
    let bytes = encode(&v.frame);
    let h = v.frame.header();
    let op = Opcode::from_u8(h.opcode).map_or("unknown", Opcode::name);
    let mut out = format!("<!-- vector: {} -->\n```hex\n", v.name);
    field(&mut out, &bytes[0..4], "magic \"MSTR\"");
    field(&mut out, &bytes[4..5], "version 1");
    field(
        &mut out,
        &bytes[5..6],
        &format!("opcode {:#04x} {op}", h.opcode),
    );
    field(&mut out, &bytes[6..8], &flags_comment(&v.frame));
    field(
        &mut out,
        &bytes[8..12],
        &format!("stream_id {}", h.stream_id),
    );
    field(
        &mut out,
        &bytes[12..16],
        &format!("payload_len {}", h.payload_len),
    );
    let corr = format!("correlation_id {}", h.correlation_id);
    field(&mut out, &bytes[16..24], &corr);
    field(
        &mut out,
        &bytes[24..32],
        &format!("timestamp_ns {}", h.timestamp_ns),
    );
    field(
        &mut out,
        &bytes[32..36],
        &format!("payload_crc {:#010x}", h.payload_crc),
    );
    let header_crc = u32::from_le_bytes([bytes[36], bytes[37], bytes[38], bytes[39]]);
    field(
        &mut out,
        &bytes[36..40],
        &format!("header_crc {header_crc:#010x}"),
    );
    let payload = &bytes[HEADER_LEN..];
    match &v.body {
        Body::Empty => {}
        Body::HelloRequest(_) => {
            field(&mut out, &payload[0..1], "min_version 1");
            field(&mut out, &payload[1..2], "max_version 1");
            str16_fields(&mut out, &payload[2..], "client_name");
        }
        Body::HelloResponse(_) => {
            field(&mut out, &payload[0..1], &format!("version {}", payload[0]));
            let rest = str16_fields(&mut out, &payload[1..], "server_name");
            let rest = str16_fields(&mut out, rest, "server_version");
            let (id, rest) = rest.split_at(8);
            let server_id = u64::from_le_bytes(id.try_into().expect("8 bytes"));
            field(&mut out, id, &format!("server_id {server_id}"));
            let (count, mut rest) = rest.split_at(2);
            let n = u16::from_le_bytes([count[0], count[1]]);
            field(&mut out, count, &format!("limit_count {n}"));
            for _ in 0..n {
                let (limit, tail) = rest.split_at(10);
                let id = u16::from_le_bytes([limit[0], limit[1]]);
                let value = u64::from_le_bytes(limit[2..10].try_into().expect("8 bytes"));
                field(
                    &mut out,
                    &limit[0..2],
                    &format!("limit_id {id} {}", limit_name(id)),
                );
                field(&mut out, &limit[2..10], &format!("value {value}"));
                rest = tail;
            }
            if let Some((&count, mut rest)) = rest.split_first() {
                field(&mut out, &[count], &format!("mechanism_count {count}"));
                for _ in 0..count {
                    rest = str16_fields(&mut out, rest, "mechanism");
                }
            }
        }
        Body::Auth(_) => {
            let rest = str16_fields(&mut out, payload, "mechanism");
            data32_fields(&mut out, rest, "data");
        }
        Body::AuthResponse(r) => {
            field(
                &mut out,
                &payload[0..1],
                &format!("done {}", u8::from(r.done)),
            );
            data32_fields(&mut out, &payload[1..], "data");
        }
        Body::AclCreate(_) => {
            let (count, rest) = payload.split_at(2);
            field(&mut out, count, "count 1");
            let rest = str16_fields(&mut out, rest, "principal");
            let rest = str16_fields(&mut out, rest, "host");
            field(&mut out, &rest[0..1], "resource_type 1 stream");
            let rest = str16_fields(&mut out, &rest[1..], "name");
            field(&mut out, &rest[0..1], "pattern_type 2 prefixed");
            field(&mut out, &rest[1..2], "operation 3 write");
            field(&mut out, &rest[2..3], "permission 1 allow");
        }
        Body::Error(body) => {
            let name = body.known_code().map_or("unknown", ErrorCode::name);
            field(
                &mut out,
                &payload[0..2],
                &format!("code {} {name}", body.code),
            );
            str16_fields(&mut out, &payload[2..], "message");
        }
    }
    out.push_str("```\n");
    out
}

fn limit_name(id: u16) -> &'static str {
    match id {
        1 => "max_frame_bytes",
        2 => "max_in_flight_requests",
        3 => "max_write_queue_bytes",
        4 => "idle_timeout_ms",
        _ => "unknown",
    }
}

fn flags_comment(frame: &Frame) -> String {
    let mut names = Vec::new();
    if frame.is_response() {
        names.push("RESPONSE");
    }
    if frame.is_error() {
        names.push("ERROR");
    }
    if names.is_empty() {
        format!("flags {:#06x}", frame.flags.bits())
    } else {
        format!("flags {:#06x} {}", frame.flags.bits(), names.join("|"))
    }
}

#[test]
fn doc_carries_exactly_the_required_vectors() {
    let found: Vec<String> = doc_vectors(&doc()).into_iter().map(|(n, _)| n).collect();
    let required: Vec<&str> = vectors().iter().map(|v| v.name).collect();
    let missing: String = vectors()
        .iter()
        .filter(|v| !found.iter().any(|n| n == v.name))
        .map(annotated_block)
        .collect();
    assert!(
        missing.is_empty(),
        "docs/protocol.md lacks vectors; add:\n\n{missing}"
    );
    for name in &found {
        assert!(
            required.contains(&name.as_str()),
            "docs/protocol.md has vector `{name}` that no test checks"
        );
        assert_eq!(
            found.iter().filter(|n| *n == name).count(),
            1,
            "vector `{name}` appears twice"
        );
    }
}

#[test]
fn encoding_gives_the_documented_bytes() {
    let documented = doc_vectors(&doc());
    let mut wrong = String::new();
    for v in vectors() {
        let Some((_, bytes)) = documented.iter().find(|(n, _)| n == v.name) else {
            continue; // reported by doc_carries_exactly_the_required_vectors
        };
        let encoded = encode(&v.frame);
        if *bytes != encoded {
            let _ = writeln!(
                wrong,
                "vector `{}` differs from the encoder:\n doc  {}\n code {}\nreplace it with:\n\n{}",
                v.name,
                hex(bytes),
                hex(&encoded),
                annotated_block(&v)
            );
        }
        let mut direct = BytesMut::new();
        v.frame.encode(&mut direct);
        assert_eq!(
            &direct[..],
            &encoded[..],
            "Frame::encode disagrees with the codec"
        );
    }
    assert!(wrong.is_empty(), "{wrong}");
}

#[test]
fn decoding_the_documented_bytes_gives_the_frames() {
    let documented = doc_vectors(&doc());
    for v in vectors() {
        let Some((_, bytes)) = documented.iter().find(|(n, _)| n == v.name) else {
            continue;
        };
        let mut buf = BytesMut::from(&bytes[..]);
        let frame = FrameCodec::new(1 << 20)
            .decode(&mut buf)
            .unwrap_or_else(|e| panic!("vector `{}`: {e}", v.name))
            .unwrap_or_else(|| panic!("vector `{}` is not a whole frame", v.name));
        assert!(buf.is_empty(), "vector `{}` has trailing bytes", v.name);
        assert_eq!(frame, v.frame, "vector `{}`", v.name);
        assert_eq!(frame.timestamp_ns, 0);
        assert_eq!(frame.stream_id, 0);
        match &v.body {
            Body::HelloRequest(hello) => {
                assert_eq!(Request::decode(&frame), Ok(Request::Hello(hello.clone())));
            }
            Body::HelloResponse(hello) => {
                assert_eq!(HelloResponse::decode(&frame.payload).as_ref(), Ok(hello));
            }
            Body::Auth(auth) => {
                assert_eq!(Request::decode(&frame), Ok(Request::Auth(auth.clone())));
            }
            Body::AuthResponse(r) => {
                assert_eq!(AuthResponse::decode(&frame.payload).as_ref(), Ok(r));
            }
            Body::AclCreate(create) => {
                assert_eq!(
                    Request::decode(&frame),
                    Ok(Request::CreateAcls(create.clone()))
                );
            }
            Body::Empty => assert!(frame.payload.is_empty()),
            Body::Error(body) => {
                assert_eq!(ErrorBody::decode(&frame.payload).as_ref(), Ok(body));
            }
        }
    }
}

#[test]
fn vector_frames_have_the_documented_headers() {
    let v = vectors();
    let by_name = |name: &str| &v.iter().find(|v| v.name == name).expect("vector").frame;
    let goodbye = by_name("server-goodbye");
    assert_eq!(
        (
            goodbye.opcode,
            goodbye.flags.bits(),
            goodbye.stream_id,
            goodbye.correlation_id
        ),
        (3, 0, 0, 0)
    );
    let refused = by_name("error-handshake-required");
    assert!(refused.is_response() && refused.is_error());
    assert_eq!((refused.opcode, refused.correlation_id), (2, 7));
    let hello_ok = by_name("hello-response");
    assert!(hello_ok.is_response() && !hello_ok.is_error());
    assert_eq!((hello_ok.opcode, hello_ok.correlation_id), (1, 1));
}

/// The lines of `doc` from `heading` up to the next heading of the same level.
fn section<'a>(doc: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = doc.lines().skip_while(|l| l.trim_end() != heading);
    assert!(lines.next().is_some(), "docs/protocol.md lacks `{heading}`");
    lines.take_while(|l| !l.starts_with("## ")).collect()
}

/// The first two cells of each table row: `| a | b | ...` gives `(a, b)`.
fn first_cells<'a>(lines: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    lines
        .iter()
        .filter_map(|l| {
            let mut cells = l.trim().strip_prefix('|')?.split('|').map(str::trim);
            Some((cells.next()?, cells.next()?))
        })
        .collect()
}

#[test]
fn error_table_lists_every_code() {
    let doc = doc();
    let rows = section(&doc, ERROR_SECTION);
    for code in ErrorCode::ALL {
        let row = format!("| {} | {} |", code.as_u16(), code.name());
        assert!(
            rows.iter().any(|l| l.starts_with(&row)),
            "the error table in docs/protocol.md lacks a row starting `{row}`"
        );
    }
    // And no row names a code the crate does not have (or gives it another number).
    for (number, name) in first_cells(&rows) {
        let Ok(number) = number.parse::<u16>() else {
            continue; // header and separator rows
        };
        let code = ErrorCode::from_u16(number)
            .unwrap_or_else(|| panic!("the error table lists {number} {name}, which is no code"));
        assert_eq!(code.name(), name, "error table row {number}");
    }
}

#[test]
fn opcode_table_lists_every_opcode() {
    let doc = doc();
    let rows = section(&doc, OPCODE_SECTION);
    for op in (0..=u8::MAX).filter_map(Opcode::from_u8) {
        let row = format!("| 0x{:02x} | {} |", op.as_u8(), op.name());
        assert!(
            rows.iter().any(|l| l.starts_with(&row)),
            "the opcode table in docs/protocol.md lacks a row starting `{row}`"
        );
    }
}
