//! TLS smoke test (temporary).
use std::sync::Arc;
use aiostreams::{ConnectOptions, ServerOptions, StreamReader, StreamWriter};
use rcgen::{CertificateParams, KeyPair, IsCa, BasicConstraints, Issuer};

#[tokio::test]
async fn tls_echo_smoke() {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let dir = std::env::temp_dir().join(format!("aiotls{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("c.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("k.pem"), key.serialize_pem()).unwrap();
    let sconf = aiostreams::tls::server_config_from_pem(dir.join("c.pem"), dir.join("k.pem")).unwrap();
    let server = ServerOptions::new().ssl(sconf).start_server(|mut r: StreamReader, w: StreamWriter| async move {
        loop {
            let line = r.readline().await?;
            if line.is_empty() { break; }
            w.write(&line)?;
        }
        w.close();
        w.wait_closed().await
    }, "127.0.0.1", 0).await.unwrap();
    let port = server.sockets()[0].as_inet().unwrap().port();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    let cconf = Arc::new(aiostreams::tls::client_config_with_roots(roots).unwrap());
    let (mut r, w) = ConnectOptions::new().ssl_config(cconf).server_hostname("localhost").connect("127.0.0.1", port).await.unwrap();
    for i in 0..100 {
        w.write(format!("hello {i}\n").as_bytes()).unwrap();
        assert_eq!(r.readline().await.unwrap(), format!("hello {i}\n").as_bytes());
    }
    let mut line = vec![b'x'; 999]; line.push(b'\n');
    let r2 = tokio::spawn(async move { let mut n = 0; for _ in 0..1000 { n += r.readuntil(b"\n").await.unwrap().len(); } (n, r) });
    for _ in 0..1000 { w.write(&line).unwrap(); w.drain().await.unwrap(); }
    let (n, mut r) = r2.await.unwrap();
    assert_eq!(n, 1_000_000);
    let info = w.transport().tls_info().unwrap();
    println!("{:?} {:?}", info.cipher, info.protocol);
    w.write_eof();
    assert_eq!(r.read_to_eof().await.unwrap().len(), 0);
    w.wait_closed().await.unwrap();
}
