//! Every way a peer can fail to authenticate is refused before its request body is read, and
//! the refusal is logged with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Federation, domain, peers, raw_client, start_echo};
use mimi_transport::client::FederationClient;
use mimi_transport::rate_limit::RateLimit;
use mimi_transport::server::ServerConfig;

/// Collects log lines so the test can check the refusal reasons.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

fn install_log() -> LogBuffer {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .init();
    buffer
}

#[tokio::test]
async fn mtls_matrix() {
    let log = install_log();
    let fed = Federation::new();
    let y_identity = fed.y.issue("y.example");
    let mut config = ServerConfig::new(domain("y.example"), y_identity, fed.trust());
    config.max_body_bytes = 1024;
    config.rate_limit = RateLimit {
        per_second: 0.001,
        burst: 20.0,
    };
    let server = start_echo(config).await;
    let url = format!("https://y.example:{}/echo", server.addr.port());

    // The good case: x's own certificate, matching From, our Host.
    let x = FederationClient::new(
        domain("x.example"),
        fed.x.issue("x.example"),
        fed.trust(),
        peers(&[("y.example", server.addr)]),
    );
    let answer = x
        .post(&domain("y.example"), "/echo", b"hello".to_vec())
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"x.example");
    assert_eq!(server.handled.lock().unwrap().as_slice(), ["x.example 5"]);
    log.take();

    // No client certificate: the handshake fails, no HTTP is answered.
    let anonymous = raw_client(None, &fed.y, server.addr);
    let result = anonymous
        .post(&url)
        .header("From", "mimi@x.example")
        .body("a")
        .send()
        .await;
    assert!(
        result.is_err(),
        "no client certificate must be refused: {result:?}"
    );
    let line = wait_for_log(&log, "TLS handshake refused").await;
    assert!(line.contains("peer sent no certificates"), "{line}");

    // A certificate for x.example issued by z's CA: z cannot vouch for x.
    let forged = fed.z.issue("x.example");
    let result = raw_client(Some(&forged), &fed.y, server.addr)
        .post(&url)
        .header("From", "mimi@x.example")
        .body("a")
        .send()
        .await;
    assert!(
        result.is_err(),
        "a cert from another domain's CA must be refused: {result:?}"
    );
    let line = wait_for_log(&log, "TLS handshake refused").await;
    assert!(
        line.contains("not issued by the CA pinned for that domain"),
        "{line}"
    );

    // A certificate from a CA nobody pinned.
    let untrusted = fed.rogue.issue("x.example");
    let result = raw_client(Some(&untrusted), &fed.y, server.addr)
        .post(&url)
        .header("From", "mimi@x.example")
        .body("a")
        .send()
        .await;
    assert!(
        result.is_err(),
        "an untrusted CA must be refused: {result:?}"
    );
    let line = wait_for_log(&log, "TLS handshake refused").await;
    assert!(
        line.contains("not issued by the CA pinned for that domain"),
        "{line}"
    );

    // x's valid certificate, but From claims z.
    let x_identity = fed.x.issue("x.example");
    let client = raw_client(Some(&x_identity), &fed.y, server.addr);
    let response = client
        .post(&url)
        .header("From", "mimi@z.example")
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        log.take()
            .contains("does not match the authenticated peer x.example")
    );

    // No From at all.
    let response = client.post(&url).body("a").send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(log.take().contains("missing From header"));

    // Host is not ours.
    let response = client
        .post(&url)
        .header("Host", "z.example")
        .header("From", "mimi@x.example")
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 421);
    assert!(log.take().contains("is not this provider"));

    // A declared body over the cap.
    let response = client
        .post(&url)
        .header("From", "mimi@x.example")
        .body(vec![0u8; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(log.take().contains("request body over 1024 bytes"));

    // None of the refused requests reached the handler.
    assert_eq!(server.handled.lock().unwrap().len(), 1);

    // The rate limit: x has a burst of 20 and almost no refill.
    let mut limited = None;
    for _ in 0..25 {
        let response = client
            .post(&url)
            .header("From", "mimi@x.example")
            .body("a")
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("the rate limit must trigger within 25 requests");
    assert!(limited.headers().get("retry-after").is_some());
    assert!(log.take().contains("rate limit exceeded"));
}

/// The server logs a handshake failure on its own task: give it a moment.
async fn wait_for_log(log: &LogBuffer, needle: &str) -> String {
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let text = log.0.lock().unwrap().clone();
        if String::from_utf8_lossy(&text).contains(needle) {
            return log.take();
        }
    }
    panic!("log never said {needle:?}: {}", log.take());
}
