//! `mimi app`'s local JSON API against a real `mimi app` process and real `mimi serve`
//! processes: the token is required (401 without it), another site's page is refused (a wrong
//! `Origin`, 403) and so is a rebound host name (a wrong `Host`, 403), also on the WebSocket;
//! with the token the page creates a room, invites, sends, and the message reaches Bob's
//! device; the refused requests left nothing behind, and a sentinel still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use cli::{eventually, json, mimi, ok, start};
use serde_json::Value;

/// A running `mimi app`, killed when dropped.
struct App {
    child: Child,
    addr: SocketAddr,
    token: String,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn app(profile: &Path) -> App {
    let mut child = mimi()
        .args(["app", "--json", "--profile"])
        .arg(profile)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let printed: Value = serde_json::from_str(&line).unwrap();
    let url = printed["url"].as_str().unwrap();
    let (origin, token) = url.split_once("/#token=").unwrap();
    App {
        child,
        addr: origin.trim_start_matches("http://").parse().unwrap(),
        token: token.to_owned(),
    }
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request over a plain socket (so every header is exactly what the test says).
fn request(addr: SocketAddr, head: &str, body: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut bytes = Vec::new();
    // A WebSocket upgrade keeps the connection open: read what arrives within a moment.
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

impl App {
    fn call(&self, method: &str, path: &str, extra: &[&str], body: &str) -> Answer {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}", self.addr);
        for line in extra {
            head.push_str("\r\n");
            head.push_str(line);
        }
        if !body.is_empty() {
            head.push_str("\r\nContent-Type: application/json");
        }
        request(self.addr, &head, body)
    }

    fn bearer(&self) -> String {
        format!("Authorization: Bearer {}", self.token)
    }

    fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let answer = self.call(method, path, &[&self.bearer()], body);
        assert_eq!(answer.status, 200, "{method} {path}: {}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    }
}

fn room_path(room: &str) -> String {
    let encoded: String = room
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/api/rooms/{encoded}")
}

fn error_of(answer: &Answer) -> String {
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[test]
fn the_api_needs_the_token_and_refuses_other_sites_and_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let alice = dir.path().join("alice");
    let bob = dir.path().join("bob");
    json(
        &alice,
        &[
            "account", "register", "--server", &urls[0], "--user", "alice",
        ],
    );
    json(
        &bob,
        &["account", "register", "--server", &urls[1], "--user", "bob"],
    );
    let app = app(&alice);
    let own_origin = format!("Origin: http://{}", app.addr);

    // The page itself needs no token, and only runs its own script.
    let page = app.call("GET", "/", &[], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>mimi</title>"), "{}", page.body);
    assert!(
        page.head
            .to_ascii_lowercase()
            .contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{}",
        page.head
    );

    // No token, a wrong one, a token in the query of an ordinary route: 401.
    let none = app.call("GET", "/api/rooms", &[], "");
    assert_eq!(none.status, 401);
    assert!(error_of(&none).contains("no valid token"), "{}", none.body);
    let wrong = app.call("GET", "/api/rooms", &["Authorization: Bearer 0123"], "");
    assert_eq!(wrong.status, 401);
    let query = app.call("GET", &format!("/api/rooms?token={}", app.token), &[], "");
    assert_eq!(query.status, 401);
    // With it: 200, also from the app's own origin.
    assert_eq!(app.ok("GET", "/api/rooms", ""), Value::Array(vec![]));
    let own = app.call("GET", "/api/me", &[&app.bearer(), &own_origin], "");
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("alice@x.example"), "{}", own.body);

    // Another site's script, even with the token: 403.
    let cross = app.call(
        "GET",
        "/api/rooms",
        &[&app.bearer(), "Origin: http://evil.example"],
        "",
    );
    assert_eq!(cross.status, 403);
    assert!(
        error_of(&cross).contains("\"http://evil.example\" are refused"),
        "{}",
        cross.body
    );
    // DNS rebinding: a page of another name pointed at 127.0.0.1: 403, the page too.
    let port = app.addr.port();
    let rebound = request(
        app.addr,
        &format!(
            "GET /api/rooms HTTP/1.1\r\nHost: evil.example:{port}\r\n{}",
            app.bearer()
        ),
        "",
    );
    assert_eq!(rebound.status, 403);
    assert!(
        error_of(&rebound).contains("answers only to"),
        "{}",
        rebound.body
    );
    let rebound_page = request(
        app.addr,
        &format!("GET / HTTP/1.1\r\nHost: evil.example:{port}"),
        "",
    );
    assert_eq!(rebound_page.status, 403);

    // The WebSocket: no token 401, another origin 403, the page's own 101.
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
    let live = |path: &str, origin: &str| {
        let mut stream = TcpStream::connect(app.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {origin}\r\n{upgrade}\r\n\r\n",
            app.addr
        )
        .unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line
    };
    let own_page = format!("http://{}", app.addr);
    assert!(live("/api/live", &own_page).contains(" 401 "));
    let with_token = format!("/api/live?token={}", app.token);
    assert!(live(&with_token, "http://evil.example").contains(" 403 "));
    assert!(live(&with_token, &own_page).contains(" 101 "));

    // With the token the page works: a room, an invitation, a message.
    let created = app.ok("POST", "/api/rooms", r#"{"name":"Book club"}"#);
    let room = created["room"].as_str().unwrap().to_owned();
    assert_eq!(room, "mimi://x.example/r/book-club");
    let path = room_path(&room);
    let again = app.call(
        "POST",
        "/api/rooms",
        &[&app.bearer()],
        r#"{"name":"book club"}"#,
    );
    assert_eq!(again.status, 409, "{}", again.body);
    app.ok(
        "POST",
        &format!("{path}/invite"),
        r#"{"users":["bob@y.example"]}"#,
    );
    eventually("bob in the book club", || {
        json(&bob, &["room", "list"])
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["room"] == room.as_str() && r["active"] == true)
    });
    app.ok(
        "POST",
        &format!("{path}/messages"),
        r#"{"text":"hello **bob**","markdown":true}"#,
    );

    // Refused requests that would send: no token, another site's page. Nothing is sent.
    let forged = r#"{"text":"forged"}"#;
    let refused = app.call("POST", &format!("{path}/messages"), &[], forged);
    assert_eq!(refused.status, 401);
    let refused = app.call(
        "POST",
        &format!("{path}/messages"),
        &[&app.bearer(), "Origin: http://evil.example"],
        forged,
    );
    assert_eq!(refused.status, 403);
    // A room this device is not in, and a bad message ID: said so.
    let elsewhere = app.call(
        "GET",
        &room_path("mimi://y.example/r/other"),
        &[&app.bearer()],
        "",
    );
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.body);
    let bad_id = app.call(
        "DELETE",
        &format!("{path}/messages/abcd"),
        &[&app.bearer()],
        "",
    );
    assert_eq!(bad_id.status, 400);
    assert!(
        error_of(&bad_id).contains("not a message ID"),
        "{}",
        bad_id.body
    );

    // The sentinel arrives; Bob's device shows exactly the two messages.
    app.ok(
        "POST",
        &format!("{path}/messages"),
        r#"{"text":"sentinel"}"#,
    );
    eventually("bob sees the messages", || {
        let history = json(&bob, &["history", &room]);
        let texts: Vec<&str> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        texts == ["hello **bob**", "sentinel"]
    });
    ok(&bob, &["read", &room]);
    // Alice's page sees Bob's read receipt on both.
    eventually("read by bob", || {
        let view = app.ok("GET", &path, "");
        view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["receipt"] == "read" && m["read_by"] == serde_json::json!(["bob@y.example"]))
    });
    let view = app.ok("GET", &path, "");
    assert_eq!(view["members"].as_array().unwrap().len(), 2);
    assert!(view["messages"][0]["markdown"].as_bool().unwrap());
    let hello = view["messages"][0]["id"].as_str().unwrap().to_owned();

    // A rogue member through his own app: Bob may not delete or rewrite Alice's message (the
    // page offers neither); both are refused, and his sentinel still arrives.
    let bob_app = self::app(&bob);
    let bobs_view = bob_app.ok("GET", &path, "");
    assert_eq!(bobs_view["messages"][0]["may_delete"], false);
    assert_eq!(bobs_view["messages"][0]["may_edit"], false);
    let delete = bob_app.call(
        "DELETE",
        &format!("{path}/messages/{hello}"),
        &[&bob_app.bearer()],
        "",
    );
    assert_eq!(delete.status, 422, "{}", delete.body);
    let rewrite = bob_app.call(
        "PUT",
        &format!("{path}/messages/{hello}"),
        &[&bob_app.bearer()],
        r#"{"text":"rewritten"}"#,
    );
    assert_eq!(rewrite.status, 422, "{}", rewrite.body);
    bob_app.ok(
        "POST",
        &format!("{path}/messages"),
        r#"{"text":"bob's sentinel"}"#,
    );
    eventually("alice sees bob's sentinel and her message intact", || {
        let view = app.ok("GET", &path, "");
        let texts: Vec<&str> = view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        texts == ["hello **bob**", "sentinel", "bob's sentinel"]
            && view["messages"][0]["edits"] == 0
            && view["messages"][0]["deleted"] == false
    });

    // An attachment: uploaded through the API, downloaded decrypted by Bob's app, served as a
    // sandboxed download whatever its type.
    let menu = "<script>alert('soup')</script>";
    let sent = app.call(
        "POST",
        &format!("{path}/files?name=menu.html&type=text%2Fhtml"),
        &[&app.bearer()],
        menu,
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    let id: Value = serde_json::from_str(&sent.body).unwrap();
    let id = id["id"].as_str().unwrap().to_owned();
    eventually("the file at bob's", || {
        bob_app.ok("GET", &path, "")["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == id.as_str() && m["attachments"][0]["filename"] == "menu.html")
    });
    // Unread in Bob's room list until his page marks the room read, then at once not.
    assert_eq!(bob_app.ok("GET", "/api/rooms", "")[0]["unread"], 1);
    assert_eq!(
        bob_app.ok("POST", &format!("{path}/read"), "")["messages"],
        1
    );
    assert_eq!(bob_app.ok("GET", "/api/rooms", "")[0]["unread"], 0);
    let file = bob_app.call(
        "GET",
        &format!("{path}/messages/{id}/attachments/0"),
        &[&bob_app.bearer()],
        "",
    );
    assert_eq!(file.status, 200, "{}", file.body);
    assert_eq!(file.body, menu);
    let head = file.head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert!(head.contains("content-security-policy: sandbox"), "{head}");
    assert!(
        head.contains("content-disposition: attachment; filename*=utf-8''menu.html"),
        "{head}"
    );
    let missing = bob_app.call(
        "GET",
        &format!("{path}/messages/{id}/attachments/1"),
        &[&bob_app.bearer()],
        "",
    );
    assert_eq!(missing.status, 404, "{}", missing.body);
}

/// The page's people: Alice's app finds Bob at his provider by the handle he made searchable,
/// sees the contact request Bob sent from his CLI and accepts it; an accept from another
/// site's page is refused (403) and changes nothing, and bad input gets a 400 that says why.
#[test]
fn people_are_found_and_contact_requests_answered_through_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let alice = dir.path().join("alice");
    let bob = dir.path().join("bob");
    let carol = dir.path().join("carol");
    json(
        &alice,
        &[
            "account", "register", "--server", &urls[0], "--user", "alice",
        ],
    );
    json(
        &bob,
        &["account", "register", "--server", &urls[1], "--user", "bob"],
    );
    json(
        &carol,
        &[
            "account", "register", "--server", &urls[2], "--user", "carol",
        ],
    );
    json(
        &bob,
        &[
            "user",
            "profile",
            "--handle",
            "bobby",
            "--display-name",
            "Bob Builder",
            "--searchable",
            "handle,name",
        ],
    );
    let app = app(&alice);

    // Search: by handle at Bob's provider; nobody by that handle at Alice's own.
    let found = app.ok("GET", "/api/users?q=bobby&provider=y.example", "");
    assert_eq!(found["code"], "success", "{found}");
    assert_eq!(found["users"][0]["user"], "bob@y.example", "{found}");
    assert_eq!(found["users"][0]["display_name"], "Bob Builder");
    let here = app.ok("GET", "/api/users?q=bobby", "");
    assert_eq!(here["provider"], "x.example");
    assert_eq!(here["users"], Value::Array(vec![]), "{here}");
    let empty = app.call("GET", "/api/users?q=", &[&app.bearer()], "");
    assert_eq!(empty.status, 400);
    assert!(error_of(&empty).contains("look for"), "{}", empty.body);

    // Bob and Carol ask Alice from their CLIs; her page lists both requests.
    json(&bob, &["contacts", "request", "alice@x.example"]);
    json(&carol, &["contacts", "request", "alice@x.example"]);
    let mut contacts = Value::Null;
    eventually("both requests at Alice's app", || {
        contacts = app.ok("GET", "/api/contacts", "");
        contacts["requests"].as_array().unwrap().len() == 2
    });
    let requesters: Vec<&str> = contacts["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert!(requesters.contains(&"bob@y.example"), "{contacts}");

    // Another site's page cannot accept for her: 403, nothing changes.
    let cross = app.call(
        "POST",
        "/api/contacts/accept",
        &[&app.bearer(), "Origin: http://evil.example"],
        r#"{"user":"bob@y.example"}"#,
    );
    assert_eq!(cross.status, 403);
    assert_eq!(
        app.ok("GET", "/api/contacts", "")["requests"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Bad input: no one named, an unknown action.
    let nobody = app.call(
        "POST",
        "/api/contacts/accept",
        &[&app.bearer()],
        r#"{"user":"  "}"#,
    );
    assert_eq!(nobody.status, 400, "{}", nobody.body);
    let odd = app.call(
        "POST",
        "/api/contacts/adopt",
        &[&app.bearer()],
        r#"{"user":"bob@y.example"}"#,
    );
    assert_eq!(odd.status, 404, "{}", odd.body);
    assert!(error_of(&odd).contains("accept, block or request"));

    // She accepts Bob and blocks Carol.
    let after = app.ok(
        "POST",
        "/api/contacts/accept",
        r#"{"user":"bob@y.example"}"#,
    );
    assert!(
        after["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["user"] == "bob@y.example"),
        "{after}"
    );
    let after = app.ok(
        "POST",
        "/api/contacts/block",
        r#"{"user":"carol@z.example"}"#,
    );
    assert_eq!(after["requests"], Value::Array(vec![]), "{after}");
    assert_eq!(after["blocked"][0], "carol@z.example", "{after}");
    // The sentinel: Bob's side learns of the grant.
    eventually("Bob sees Alice's grant", || {
        let theirs = json(&bob, &["contacts", "list"]);
        theirs.to_string().contains("granted")
    });

    // "Message privately": the direct-message room with Bob, the same one each time and the
    // one Bob's own `mimi dm` finds; the room list names it after him.
    let dm = app.ok("POST", "/api/dm", r#"{"user":"bob@y.example"}"#);
    let room = dm["room"].as_str().unwrap().to_owned();
    assert!(room.starts_with("mimi://x.example/r/dm-"), "{dm}");
    assert_eq!(dm["with"], "bob@y.example");
    let again = app.ok("POST", "/api/dm", r#"{"user":"bob@y.example"}"#);
    assert_eq!(again["room"], room.as_str());
    let rooms = app.ok("GET", "/api/rooms", "");
    let listed = rooms
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"] == room.as_str())
        .unwrap();
    assert_eq!(listed["title"], "bob@y.example", "{rooms}");
    let theirs = ok(&bob, &["dm", "alice@x.example", "--json"]);
    assert!(theirs.contains(&room), "{theirs}");
    let myself = app.call(
        "POST",
        "/api/dm",
        &[&app.bearer()],
        r#"{"user":"alice@x.example"}"#,
    );
    assert_eq!(myself.status, 422, "{}", myself.body);
    assert!(
        error_of(&myself).contains("another user"),
        "{}",
        myself.body
    );
}
