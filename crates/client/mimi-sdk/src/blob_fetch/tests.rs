//! The attachment fetch against tiny misbehaving HTTP servers on real loopback sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;

use super::*;

/// A server on `ip` that accepts one connection, reads the request head and hands the
/// stream to `answer`; the thread returns what `answer` returns.
fn serve_once<T: Send + 'static>(
    ip: &str,
    answer: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(stream.read(&mut byte).unwrap(), 1);
            head.push(byte[0]);
        }
        answer(stream)
    });
    (base, handle)
}

fn api() -> Api {
    Api::new("http://127.0.0.1:1", &[], None).unwrap()
}

fn known() -> KnownHosts {
    KnownHosts::new("http://127.0.0.1:1", ["x.example", "y.example"])
}

const PATH: &str = "/v1/blobs/00";

#[test]
fn only_the_own_provider_host_and_bundle_domains_are_fetched() {
    let known = known();
    for ok in [
        "http://127.0.0.1:9/v1/blobs/a",
        "https://x.example/v1/blobs/a",
        "https://X.Example:8443/v1/blobs/a",
        "https://blobs.y.example/v1/blobs/a",
    ] {
        assert!(known.check(ok).is_ok(), "{ok}");
    }
    for (bad, why) in [
        ("http://localhost:1/v1/blobs/a", "neither"),
        ("http://10.0.0.1/v1/blobs/a", "neither"),
        ("https://evilx.example/v1/blobs/a", "neither"),
        ("https://x.example.evil/v1/blobs/a", "neither"),
        ("ftp://x.example/a", "not http(s)"),
        ("https://u:p@x.example/a", "user information"),
        ("not a url", "not a URL"),
    ] {
        let err = known.check(bad).unwrap_err();
        assert!(
            matches!(err, SdkError::AttachmentUrl { .. }),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains(why), "{bad}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_host_is_refused_before_any_connection() {
    let listener = TcpListener::bind("127.0.0.2:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}{PATH}", listener.local_addr().unwrap());
    let err = api().download_blob(&url, 10, &known()).await.unwrap_err();
    assert!(matches!(err, SdkError::AttachmentUrl { .. }), "{err}");
    assert!(listener.accept().is_err(), "the device connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_refused_and_not_followed() {
    // The "internal" host the redirect points at, counting connections.
    let internal = TcpListener::bind("127.0.0.2:0").unwrap();
    internal.set_nonblocking(true).unwrap();
    let target = format!("http://{}/secret", internal.local_addr().unwrap());
    let location = target.clone();
    let (base, server) = serve_once("127.0.0.1", move |mut stream| {
        write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
    });
    let err = api()
        .download_blob(&format!("{base}{PATH}"), 10, &known())
        .await
        .unwrap_err();
    server.join().unwrap();
    assert!(matches!(err, SdkError::AttachmentUrl { .. }), "{err}");
    assert!(err.to_string().contains("302"), "{err}");
    assert!(err.to_string().contains(&target), "{err}");
    assert!(internal.accept().is_err(), "the redirect was followed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_longer_than_named_is_cut_off_early() {
    const OFFERED: usize = 512 * 1024 * 1024;
    // Chunked, so no length warns the device: it must count.
    let (base, server) = serve_once("127.0.0.1", |mut stream| {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        while sent < OFFERED {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if stream.write_all(&framed).is_err() {
                return sent;
            }
            sent += chunk.len();
        }
        sent
    });
    let err = api()
        .download_blob(&format!("{base}{PATH}"), 65, &known())
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("65 bytes"), "{err}");
    // The server saw the connection closed long before it sent all it offered.
    let sent = server.join().unwrap();
    assert!(sent < OFFERED / 8, "the server sent {sent} bytes");

    // A length announced over the named size is refused before the body.
    let (base, server) = serve_once("127.0.0.1", |mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    });
    let err = api()
        .download_blob(&format!("{base}{PATH}"), 65, &known())
        .await
        .unwrap_err();
    server.join().unwrap();
    assert!(err.to_string().contains("65 bytes"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_of_the_named_size_is_fetched() {
    let blob: Vec<u8> = (0..65u8).collect();
    let sent = blob.clone();
    let (base, server) = serve_once("127.0.0.1", move |mut stream| {
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            sent.len()
        )
        .unwrap();
        stream.write_all(&sent).unwrap();
    });
    let got = api()
        .download_blob(&format!("{base}{PATH}"), 65, &known())
        .await
        .unwrap();
    server.join().unwrap();
    assert_eq!(got, blob);
}
