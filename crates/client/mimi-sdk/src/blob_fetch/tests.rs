//! The attachment fetch through the device's provider, against tiny misbehaving HTTP servers
//! on real loopback sockets standing in for the provider.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;

use super::*;

/// A server on `ip` that accepts one connection, reads the request head and hands the
/// stream and the head to `answer`; the thread returns what `answer` returns.
fn serve_once<T: Send + 'static>(
    ip: &str,
    answer: impl FnOnce(TcpStream, String) -> T + Send + 'static,
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
        answer(stream, String::from_utf8_lossy(&head).into_owned())
    });
    (base, handle)
}

fn api(base: &str) -> Api {
    Api::new(base, &[], None).unwrap()
}

const URL: &str = "https://x.example/v1/blobs/00?room=mimi%3A%2F%2Fx.example%2Fr%2Fa";

#[tokio::test(flavor = "multi_thread")]
async fn only_https_urls_are_asked_for_and_nothing_is_connected_to() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    for bad in [
        "http://x.example/v1/blobs/00",
        "ftp://x.example/a",
        "not a url",
    ] {
        let err = api(&base).download_asset("t", bad, 10).await.unwrap_err();
        assert!(
            matches!(err, SdkError::AttachmentUrl { .. }),
            "{bad}: {err}"
        );
    }
    assert!(listener.accept().is_err(), "the device connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_asset_is_asked_of_the_own_provider_with_the_token() {
    let blob: Vec<u8> = (0..65u8).collect();
    let sent = blob.clone();
    let (base, server) = serve_once("127.0.0.1", move |mut stream, head| {
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            sent.len()
        )
        .unwrap();
        stream.write_all(&sent).unwrap();
        head
    });
    let got = api(&base).download_asset("tok", URL, 65).await.unwrap();
    let head = server.join().unwrap();
    assert_eq!(got, blob);
    let expected = format!("GET /v1/assets?url={}&max_bytes=65 ", encode_param(&URL));
    assert!(head.starts_with(&expected), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer tok"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_refused_and_not_followed() {
    // The "internal" host the redirect points at, counting connections.
    let internal = TcpListener::bind("127.0.0.2:0").unwrap();
    internal.set_nonblocking(true).unwrap();
    let target = format!("http://{}/secret", internal.local_addr().unwrap());
    let location = target.clone();
    let (base, server) = serve_once("127.0.0.1", move |mut stream, _| {
        write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
    });
    let err = api(&base).download_asset("t", URL, 10).await.unwrap_err();
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
    let (base, server) = serve_once("127.0.0.1", |mut stream, _| {
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
    let err = api(&base).download_asset("t", URL, 65).await.unwrap_err();
    assert!(matches!(err, SdkError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("65 bytes"), "{err}");
    // The server saw the connection closed long before it sent all it offered.
    let sent = server.join().unwrap();
    assert!(sent < OFFERED / 8, "the server sent {sent} bytes");

    // A length announced over the named size is refused before the body.
    let (base, server) = serve_once("127.0.0.1", |mut stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    });
    let err = api(&base).download_asset("t", URL, 65).await.unwrap_err();
    server.join().unwrap();
    assert!(err.to_string().contains("65 bytes"), "{err}");
}
