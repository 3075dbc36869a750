//! The PROXY header parser: hand-written v1 and v2 headers (HAProxy's examples), every
//! malformed shape, and property tests: any header we encode parses back with its exact
//! length whatever follows it, every strict prefix asks for more, and no input panics.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use super::{Parsed, ProxyHeader, V2_MAX, V2_SIGNATURE, parse};

fn header(version: u8, src: &str, dst: &str) -> ProxyHeader {
    ProxyHeader {
        version,
        source: Some(src.parse().unwrap()),
        destination: Some(dst.parse().unwrap()),
    }
}

fn unknown(version: u8) -> ProxyHeader {
    ProxyHeader {
        version,
        source: None,
        destination: None,
    }
}

/// A v2 header: command, family/protocol byte, address block and TLVs.
fn v2(command: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x20 | command);
    out.push(fam);
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn inet_body(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let ip = |a: SocketAddr| match a.ip() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    [
        ip(src),
        ip(dst),
        src.port().to_be_bytes().to_vec(),
        dst.port().to_be_bytes().to_vec(),
    ]
    .concat()
}

#[test]
fn version_1_headers() {
    let cases: [(&[u8], ProxyHeader); 4] = [
        (
            b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /",
            header(1, "192.168.0.1:56324", "192.168.0.11:443"),
        ),
        (
            b"PROXY TCP6 ::1 2001:db8::1 65535 0\r\n",
            header(1, "[::1]:65535", "[2001:db8::1]:0"),
        ),
        (b"PROXY UNKNOWN\r\n", unknown(1)),
        (b"PROXY UNKNOWN ffff:: 1.2.3.4 whatever\r\n\x16", unknown(1)),
    ];
    for (bytes, expected) in cases {
        let len = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        assert_eq!(parse(bytes), Ok(Parsed::Header(expected, len)), "{bytes:?}");
    }
}

#[test]
fn malformed_version_1_headers_say_why() {
    let cases: [(&[u8], &str); 10] = [
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "not ended by CRLF"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "too few fields"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "too many fields"),
        (b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "bad address"),
        (b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "bad address"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "bad port"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "bad port"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "bad port"),
        (b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "unknown protocol"),
        (b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "bad address"),
    ];
    for (bytes, why) in cases {
        let err = parse(bytes).unwrap_err();
        assert!(err.contains(why), "{bytes:?}: {err}");
    }
    let long = [&b"PROXY UNKNOWN "[..], &[b'x'; 100]].concat();
    assert_eq!(parse(&long), Err("PROXY v1 header longer than 107 bytes"));
}

#[test]
fn version_2_headers() {
    let (s4, d4) = (
        "10.0.0.1:1000".parse().unwrap(),
        "10.0.0.2:443".parse().unwrap(),
    );
    let (s6, d6) = (
        "[2001:db8::7]:5".parse().unwrap(),
        "[::1]:6".parse().unwrap(),
    );
    let tlvs = [0x04, 0x00, 0x03, b'a', b'b', b'c']; // a NOOP TLV, ignored
    let cases = [
        (
            v2(1, 0x11, &inet_body(s4, d4)),
            ProxyHeader {
                version: 2,
                source: Some(s4),
                destination: Some(d4),
            },
        ),
        (
            v2(1, 0x21, &[inet_body(s6, d6), tlvs.to_vec()].concat()),
            ProxyHeader {
                version: 2,
                source: Some(s6),
                destination: Some(d6),
            },
        ),
        (v2(0, 0x00, &[]), unknown(2)), // LOCAL (health check)
        (v2(0, 0x11, &inet_body(s4, d4)), unknown(2)), // LOCAL ignores addresses
        (v2(1, 0x31, &[0; 216]), unknown(2)), // UNIX
        (v2(1, 0x00, &tlvs), unknown(2)), // UNSPEC
    ];
    for (bytes, expected) in cases {
        let len = bytes.len();
        let with_data = [bytes, b"\x16\x03\x01".to_vec()].concat();
        assert_eq!(parse(&with_data), Ok(Parsed::Header(expected, len)));
    }
}

#[test]
fn malformed_version_2_headers_say_why() {
    let mut bad_version = v2(1, 0x11, &[0; 12]);
    bad_version[12] = 0x11;
    let cases = [
        (bad_version, "bad version"),
        (v2(2, 0x11, &[0; 12]), "bad command"),
        (v2(1, 0x41, &[0; 12]), "bad address family"),
        (v2(1, 0x13, &[0; 12]), "bad address family or protocol"),
        (v2(1, 0x11, &[0; 11]), "too short"),
        (v2(1, 0x21, &[0; 35]), "too short"),
        (v2(1, 0x11, &vec![0; V2_MAX - 15]), "longer than 2048"),
    ];
    for (bytes, why) in cases {
        let err = parse(&bytes).unwrap_err();
        assert!(err.contains(why), "{why}: {err}");
    }
}

#[test]
fn prefixes_of_a_signature_are_undecided_and_other_bytes_are_not_proxy() {
    for n in 1..12 {
        assert_eq!(
            parse(&V2_SIGNATURE[..n]),
            Ok(Parsed::NeedMore { decided: false })
        );
    }
    for n in 1..6 {
        assert_eq!(
            parse(&b"PROXY "[..n]),
            Ok(Parsed::NeedMore { decided: false })
        );
    }
    assert_eq!(
        parse(b"PROXY TCP4 1."),
        Ok(Parsed::NeedMore { decided: true })
    );
    assert_eq!(parse(&V2_SIGNATURE), Ok(Parsed::NeedMore { decided: true }));
    for other in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"\x16\x03\x01",
        b"PROXZ",
        b"\r\n\r\nx",
        b"",
    ] {
        let expected = if other.is_empty() {
            Parsed::NeedMore { decided: false }
        } else {
            Parsed::NotProxy
        };
        assert_eq!(parse(other), Ok(expected), "{other:?}");
    }
}

/// Any header this encodes is valid: v1 TCP4/TCP6/UNKNOWN, v2 INET/INET6/LOCAL with TLVs.
fn any_header() -> impl Strategy<Value = (Vec<u8>, ProxyHeader)> {
    let addr = prop_oneof![
        any::<([u8; 4], u16)>().prop_map(|(ip, p)| SocketAddr::new(IpAddr::from(ip), p)),
        any::<([u8; 16], u16)>().prop_map(|(ip, p)| SocketAddr::new(IpAddr::from(ip), p)),
    ];
    (
        addr,
        any::<u16>(),
        any::<u16>(),
        0..4u8,
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(src, dport, sport, shape, tlvs)| {
            let same_family = |p: u16| match src.ip() {
                IpAddr::V4(_) => SocketAddr::new([10, 0, 0, 1].into(), p),
                IpAddr::V6(_) => SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), p),
            };
            let src = SocketAddr::new(src.ip(), sport);
            let dst = same_family(dport);
            let known = |version| ProxyHeader {
                version,
                source: Some(src),
                destination: Some(dst),
            };
            match shape {
                0 => {
                    let fam = if src.is_ipv4() { "TCP4" } else { "TCP6" };
                    let line = format!(
                        "PROXY {fam} {} {} {} {}\r\n",
                        src.ip(),
                        dst.ip(),
                        sport,
                        dport
                    );
                    (line.into_bytes(), known(1))
                }
                1 => (b"PROXY UNKNOWN\r\n".to_vec(), unknown(1)),
                2 => {
                    let fam = if src.is_ipv4() { 0x11 } else { 0x21 };
                    (v2(1, fam, &[inet_body(src, dst), tlvs].concat()), known(2))
                }
                _ => (v2(0, 0x00, &tlvs), unknown(2)),
            }
        })
}

proptest! {
    #[test]
    fn an_encoded_header_parses_back_with_its_length_whatever_follows(
        (bytes, expected) in any_header(),
        tail in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let len = bytes.len();
        let input = [bytes.clone(), tail].concat();
        prop_assert_eq!(parse(&input), Ok(Parsed::Header(expected, len)));
        for cut in 1..len {
            prop_assert!(matches!(parse(&bytes[..cut]), Ok(Parsed::NeedMore { .. })), "prefix {}", cut);
        }
    }

    #[test]
    fn no_input_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes);
        let signed = [&V2_SIGNATURE[..], &bytes].concat();
        let _ = parse(&signed);
        let text = [&b"PROXY "[..], &bytes].concat();
        let _ = parse(&text);
    }

    #[test]
    fn a_mutated_header_never_panics((bytes, _) in any_header(), at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = bytes;
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = parse(&bytes);
    }
}
