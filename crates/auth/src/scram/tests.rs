use super::*;

const CLIENT_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";

/// RFC 7677 section 3 (SHA-256); the SHA-512 values were computed with Python's hashlib
/// from the same inputs.
const VECTORS: [(Mechanism, &str, &str); 2] = [
    (
        Mechanism::ScramSha256,
        "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
    ),
    (
        Mechanism::ScramSha512,
        "gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==",
        "ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==",
    ),
];

fn credential(m: Mechanism, password: &[u8]) -> ScramCredential {
    ScramCredential::derive(m, password, &B64.decode(SALT).unwrap(), 4096)
}

#[test]
fn the_published_exchange_byte_for_byte() {
    for (m, proof, signature) in VECTORS {
        let mut client = ScramClient::with_nonce(m, "user", b"pencil", CLIENT_NONCE.into());
        let mut server = ScramServer::with_nonce(m, SERVER_NONCE.into());
        let first = client.client_first();
        assert_eq!(first, format!("n,,n=user,r={CLIENT_NONCE}").as_bytes());
        assert_eq!(server.client_first(&first).unwrap(), "user");
        let cred = credential(m, b"pencil");
        let server_first = server.server_first(Some(&cred), b"k", 4096).unwrap();
        assert_eq!(
            String::from_utf8(server_first.clone()).unwrap(),
            format!("r={CLIENT_NONCE}{SERVER_NONCE},s={SALT},i=4096")
        );
        let client_final = client.server_first(&server_first).unwrap();
        assert_eq!(
            String::from_utf8(client_final.clone()).unwrap(),
            format!("c=biws,r={CLIENT_NONCE}{SERVER_NONCE},p={proof}"),
            "{m}"
        );
        let server_final = server.client_final(&client_final).unwrap();
        assert_eq!(server_final, format!("v={signature}").as_bytes(), "{m}");
        client.server_final(&server_final).unwrap();
    }
}

fn exchange(
    m: Mechanism,
    stored: Option<&ScramCredential>,
    password: &[u8],
) -> Result<(), ScramError> {
    let mut client = ScramClient::new(m, "al,i=ce", password).unwrap();
    let mut server = ScramServer::new(m).unwrap();
    assert_eq!(server.client_first(&client.client_first())?, "al,i=ce");
    let sf = server.server_first(stored, b"secret", 4096)?;
    let cf = client.server_first(&sf)?;
    let fin = server.client_final(&cf)?;
    client.server_final(&fin)
}

#[test]
fn wrong_password_and_unknown_user_fail_alike() {
    for m in Mechanism::ALL {
        let cred = ScramCredential::generate(m, b"right", 4096).unwrap();
        assert_eq!(exchange(m, Some(&cred), b"right"), Ok(()));
        assert_eq!(
            exchange(m, Some(&cred), b"wrong"),
            Err(ScramError::AuthenticationFailed)
        );
        assert_eq!(
            exchange(m, None, b"right"),
            Err(ScramError::AuthenticationFailed)
        );
        assert!(cred.verify_password(b"right") && !cred.verify_password(b"wrong"));
    }
}

#[test]
fn an_unknown_user_gets_a_stable_believable_salt() {
    let first = |user: &str| {
        let mut s = ScramServer::with_nonce(Mechanism::ScramSha512, "S".into());
        s.client_first(format!("n,,n={user},r=c").as_bytes())
            .unwrap();
        String::from_utf8(s.server_first(None, b"key", 8192).unwrap()).unwrap()
    };
    assert_eq!(first("ghost"), first("ghost"));
    assert_ne!(first("ghost"), first("phantom"));
    let salt = first("ghost");
    let salt = salt
        .split(",s=")
        .nth(1)
        .unwrap()
        .split(",i=")
        .next()
        .unwrap();
    assert_eq!(B64.decode(salt).unwrap().len(), SALT_BYTES);
    assert!(first("ghost").ends_with(",i=8192"));
}

#[test]
fn the_server_refuses_what_rfc_5802_does_not_allow() {
    let refuse = |msg: &str| {
        let mut s = ScramServer::with_nonce(Mechanism::ScramSha256, "S".into());
        s.client_first(msg.as_bytes()).unwrap_err()
    };
    assert_eq!(refuse("p=tls-unique,,n=u,r=c"), ScramError::ChannelBinding);
    assert_eq!(refuse("n,a=other,n=u,r=c"), ScramError::Authzid);
    assert!(matches!(refuse("x,,n=u,r=c"), ScramError::Malformed(_)));
    assert!(matches!(
        refuse("n,,m=ext,n=u,r=c"),
        ScramError::Malformed(_)
    ));
    assert!(matches!(refuse("n,,n=u"), ScramError::Malformed(_)));
    assert!(matches!(refuse("n,,n=a=b,r=c"), ScramError::Malformed(_)));
    assert!(matches!(refuse("n,,n=,r=c"), ScramError::Malformed(_)));
    assert!(matches!(refuse("n,,r=c,n=u"), ScramError::Malformed(_)));
    let mut s = ScramServer::with_nonce(Mechanism::ScramSha256, "S".into());
    assert_eq!(
        s.client_first(b"n,a=u,n=u,r=c,tokenauth=true").unwrap(),
        "u"
    );
    assert_eq!(
        s.client_final(b"c=biws,r=cS,p=AAAA"),
        Err(ScramError::OutOfOrder)
    );

    // A final message with another nonce or channel binding is refused before the proof.
    let fin = |msg: &str| {
        let mut s = ScramServer::with_nonce(Mechanism::ScramSha256, "S".into());
        s.client_first(b"n,,n=u,r=c").unwrap();
        s.server_first(Some(&credential(Mechanism::ScramSha256, b"p")), b"k", 4096)
            .unwrap();
        s.client_final(msg.as_bytes()).unwrap_err()
    };
    assert!(matches!(
        fin("c=biws,r=cX,p=AAAA"),
        ScramError::Malformed(_)
    ));
    assert!(matches!(
        fin("c=eSws,r=cS,p=AAAA"),
        ScramError::Malformed(_)
    ));
    assert!(matches!(fin("c=biws,r=cS"), ScramError::Malformed(_)));
    assert!(matches!(
        fin("c=biws,r=cS,p=AAAA"),
        ScramError::Malformed(_)
    ));
    let zero = B64.encode([0u8; 32]);
    assert_eq!(
        fin(&format!("c=biws,r=cS,p={zero}")),
        ScramError::AuthenticationFailed
    );
}

#[test]
fn the_client_refuses_a_weak_or_costly_server() {
    let client_for = |msg: &str| {
        let mut c = ScramClient::with_nonce(Mechanism::ScramSha256, "u", b"p", "c".into());
        c.client_first();
        c.server_first(msg.as_bytes())
    };
    assert_eq!(
        client_for("r=cS,s=QQ==,i=1000"),
        Err(ScramError::Iterations(1000))
    );
    assert_eq!(
        client_for("r=cS,s=QQ==,i=4000000000"),
        Err(ScramError::Iterations(4_000_000_000))
    );
    assert!(matches!(
        client_for("r=X,s=QQ==,i=4096"),
        Err(ScramError::Malformed(_))
    ));
    assert!(matches!(
        client_for("e=unknown-user"),
        Err(ScramError::ServerError(_))
    ));
    let mut c = ScramClient::with_nonce(Mechanism::ScramSha256, "u", b"p", "c".into());
    c.client_first();
    c.server_first(b"r=cS,s=QQ==,i=4096").unwrap();
    assert_eq!(
        c.server_final(b"v=AAAA"),
        Err(ScramError::AuthenticationFailed)
    );
}

#[test]
fn credentials_round_trip_through_json_and_are_checked() {
    let cred = credential(Mechanism::ScramSha512, b"pencil");
    let json = serde_json::to_string(&cred).unwrap();
    assert!(
        json.contains("\"SCRAM-SHA-512\"") && json.contains(SALT),
        "{json}"
    );
    let back: ScramCredential = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cred);
    assert!(back.check().is_ok());
    assert!(!format!("{cred:?}").contains("stored_key"));
    let mut weak = cred.clone();
    weak.iterations = 1;
    assert!(weak.check().is_err());
    let mut short = cred;
    short.stored_key.pop();
    assert!(short.check().is_err());
    assert_eq!(
        Mechanism::from_name("SCRAM-SHA-512"),
        Some(Mechanism::ScramSha512)
    );
    assert_eq!(Mechanism::from_name("scram-sha-512"), None);
}

proptest::proptest! {
    #[test]
    fn random_messages_never_panic(a in ".{0,80}", b in ".{0,120}") {
        let mut s = ScramServer::with_nonce(Mechanism::ScramSha256, "S".into());
        if s.client_first(a.as_bytes()).is_ok() {
            let _ = s.server_first(None, b"k", 4096);
            let _ = s.client_final(b.as_bytes());
        }
        let mut c = ScramClient::with_nonce(Mechanism::ScramSha256, "u", b"p", "c".into());
        c.client_first();
        let _ = c.server_first(format!("r=cS,{a}").as_bytes());
        let _ = c.server_final(b.as_bytes());
    }
}

/// librdkafka's client-final repeats its nonce in front of the combined one
/// (`rd_kafka_sasl_scram_build_client_final_message_wo_proof`); the proof covers what it
/// sent, so the exchange succeeds, and only that one extra form is accepted.
#[test]
fn librdkafkas_repeated_client_nonce_is_accepted() {
    let m = Mechanism::ScramSha256;
    let salt = B64.decode(SALT).unwrap();
    let cred = credential(m, b"pencil");
    let login = |nonce_field: &str| {
        let mut server = ScramServer::with_nonce(m, SERVER_NONCE.into());
        let bare = format!("n=user,r={CLIENT_NONCE}");
        server
            .client_first(format!("n,,{bare}").as_bytes())
            .unwrap();
        let sf = String::from_utf8(server.server_first(Some(&cred), b"k", 4096).unwrap()).unwrap();
        let without_proof = format!("c=biws,r={nonce_field}");
        let auth_message = format!("{bare},{sf},{without_proof}");
        let salted = m.salted_password(b"pencil", &salt, 4096);
        let client_key = m.hmac(&salted, &[b"Client Key"]);
        let signature = m.hmac(&m.hash(&client_key), &[auth_message.as_bytes()]);
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        server.client_final(format!("{without_proof},p={}", B64.encode(proof)).as_bytes())
    };
    let combined = format!("{CLIENT_NONCE}{SERVER_NONCE}");
    assert!(login(&combined).is_ok());
    assert!(login(&format!("{CLIENT_NONCE}{combined}")).is_ok());
    assert!(matches!(
        login(&format!("x{combined}")),
        Err(ScramError::Malformed(_))
    ));
}
