//! `mimi app` in a real browser: three `mimi serve` processes, Alice on x.example and Bob on
//! y.example each with their own `mimi app` process, both pages driven in a headless Chromium
//! over WebDriver (chromedriver). Alice creates a room and invites Bob; they exchange
//! messages; Bob reacts; Alice sees the reaction and Bob's read receipt arrive. Each step
//! waits, within a bound, for the text it expects, and fails naming it; screenshots of the
//! pages are written under `target/app-screenshots/` for a human to look at.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`);
//! without them the test fails saying so, unless `MIMI_SKIP_BROWSER_TESTS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli::{eventually, json, mimi, start};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::Value;

/// How long a step may take before the test fails.
const STEP: Duration = Duration::from_secs(45);

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver in a process group of its own: dropping it ends the whole group, browsers
/// included, also when a step failed before the sessions were closed.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// `mimi app` for `profile`: the process and the link it printed.
fn app(profile: &Path) -> (Killed, String) {
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
    let printed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    (Killed(child), printed["url"].as_str().unwrap().to_owned())
}

/// The first of `names` that is an executable on the PATH or an absolute path.
fn find(names: &[&str]) -> Option<PathBuf> {
    for name in names {
        let path = Path::new(name);
        if path.is_absolute() {
            if path.exists() {
                return Some(path.to_owned());
            }
            continue;
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let candidate = dir.join(name);
                if candidate.exists() {
                    return Some(candidate);
                }
            }
        }
    }
    None
}

fn screenshots() -> PathBuf {
    // CARGO_BIN_EXE_mimi is <target>/<profile>/mimi.
    let exe = Path::new(env!("CARGO_BIN_EXE_mimi"));
    let dir = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("app-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Page {
    name: &'static str,
    client: Client,
}

impl Page {
    async fn open(driver: &str, chromium: &Path, name: &'static str, url: &str) -> Self {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,860",
                         "--lang=en-US"],
            }),
        );
        let client = ClientBuilder::new(hyper_connector())
            .capabilities(caps)
            .connect(driver)
            .await
            .unwrap_or_else(|e| panic!("chromedriver at {driver} did not start a browser: {e}"));
        client.goto(url).await.unwrap();
        Self { name, client }
    }

    async fn shot(&self, step: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("{step}-{}.png", self.name)), png).unwrap();
    }

    async fn body(&self) -> String {
        self.client
            .execute("return document.body.innerText", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Waits (within [`STEP`]) until the page shows `text`; fails naming it otherwise.
    async fn wait_text(&self, text: &str) {
        let started = Instant::now();
        loop {
            let body = self.body().await;
            if body.contains(text) {
                return;
            }
            if started.elapsed() > STEP {
                self.shot("failed").await;
                panic!(
                    "{}'s page did not show {text:?} within {STEP:?}; it shows:\n{body}",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the element `css` and types `text` into it.
    async fn fill(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            let field = self.find(Locator::Css(css)).await;
            match field.send_keys(text).await {
                Ok(()) => return,
                Err(e) => self.stale_or_panic(e, css, started).await,
            }
        }
    }

    async fn click(&self, locator: Locator<'_>) {
        let what = format!("{locator:?}");
        let started = Instant::now();
        loop {
            let element = self.find(locator).await;
            match element.click().await {
                Ok(()) => return,
                Err(e) => self.stale_or_panic(e, &what, started).await,
            }
        }
    }

    async fn find(&self, locator: Locator<'_>) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(STEP)
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("{}'s page has no {locator:?}: {e}", self.name))
    }

    /// The page re-renders as events arrive: an element found a moment ago may have been
    /// replaced before it was used. Then it is looked up again (within [`STEP`]); any other
    /// error fails the test.
    async fn stale_or_panic(&self, e: fantoccini::error::CmdError, what: &str, since: Instant) {
        if !e.is_stale_element_reference() || since.elapsed() > STEP {
            self.shot("failed").await;
            panic!("{}'s page: using {what} failed: {e}", self.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hyper_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}

#[test]
fn two_users_on_two_providers_chat_in_their_browsers() {
    let skip = std::env::var("MIMI_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1");
    let chromium = find(&[
        "chromium",
        "chromium-browser",
        "google-chrome",
        "/usr/bin/chromium",
    ]);
    let driver = find(&["chromedriver", "/usr/bin/chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        if skip {
            eprintln!("SKIPPED: no chromium/chromedriver and MIMI_SKIP_BROWSER_TESTS=1");
            return;
        }
        panic!(
            "the browser test needs Chromium and chromedriver: install them \
             (Debian: `apt-get install chromium chromium-driver`), or set \
             MIMI_SKIP_BROWSER_TESTS=1 to skip this test"
        );
    };
    if skip {
        eprintln!("SKIPPED: MIMI_SKIP_BROWSER_TESTS=1");
        return;
    }

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
    let (_alice_app, alice_url) = app(&alice);
    let (_bob_app, bob_url) = app(&bob);

    let port = mimi_server::free_loopback_addr().unwrap().port();
    let _driver = Driver(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so the browsers it starts go with it (see `Driver`).
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    eventually("chromedriver to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let driver_url = format!("http://127.0.0.1:{port}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let a = Page::open(&driver_url, &chromium, "alice", &alice_url).await;
        let b = Page::open(&driver_url, &chromium, "bob", &bob_url).await;
        a.wait_text("alice@x.example").await;
        a.wait_text("live").await;
        b.wait_text("bob@y.example").await;

        // Alice creates a room and invites Bob.
        a.fill("#new-room", "Book club").await;
        a.click(Locator::Css("#create-room button[type=submit]")).await;
        a.wait_text("Invite someone").await;
        a.fill("#invite-user", "bob@y.example").await;
        a.click(Locator::Css("#invite button[type=submit]")).await;
        a.wait_text("bob@y.example\n").await;
        a.shot("01-room-created").await;

        // Bob's page lists the room (live, no reload); he opens it.
        b.wait_text("Book club").await;
        b.click(Locator::Css("button.room[data-title='Book club']")).await;
        b.wait_text("alice@x.example").await;

        // They exchange messages.
        a.fill("#text", "Hello **Bob**, welcome to the club").await;
        a.click(Locator::Css("#send")).await;
        b.wait_text("Hello Bob, welcome to the club").await;
        b.fill("#text", "Thanks Alice!").await;
        b.click(Locator::Css("#send")).await;
        a.wait_text("Thanks Alice!").await;

        // Bob reacts to Alice's message; Alice sees the reaction and his read receipt.
        b.click(Locator::XPath(
            "//li[contains(@class,'message')][contains(., 'welcome to the club')]//button[@data-reaction='👍']",
        ))
        .await;
        b.wait_text("👍 1").await;
        a.wait_text("👍 1").await;
        a.wait_text("Read by bob@y.example").await;
        b.shot("02-conversation").await;
        a.shot("02-conversation").await;

        // Alice replies to Bob's message; Bob sees the quote.
        a.click(Locator::XPath(
            "//li[contains(@class,'message')][contains(., 'Thanks Alice!')]//button[contains(@class,'reply')]",
        ))
        .await;
        a.fill("#text", "You are welcome").await;
        a.click(Locator::Css("#send")).await;
        b.wait_text("You are welcome").await;
        b.shot("03-reply").await;
        a.shot("03-reply").await;
        let quoted = b
            .client
            .wait()
            .at_most(STEP)
            .for_element(Locator::XPath(
                "//li[contains(@class,'message')][contains(., 'You are welcome')]//blockquote",
            ))
            .await
            .unwrap_or_else(|e| panic!("bob's page shows no quote above the reply: {e}"))
            .text()
            .await
            .unwrap();
        assert!(quoted.contains("Thanks Alice!"), "{quoted}");

        // Bob starts typing: Alice's page says so, live.
        b.fill("#text", "Markup stays text: ").await;
        a.wait_text("bob@y.example is typing").await;
        // What he sends is shown as text: no element, no script link; a web link is a link.
        b.fill("#text", "<img src=x onerror=alert(1)> <b>raw</b> [click](javascript:alert(1)) https://example.org/menu")
            .await;
        b.click(Locator::Css("#send")).await;
        a.wait_text("Markup stays text: <img src=x onerror=alert(1)> <b>raw</b> [click](javascript:alert(1))")
            .await;
        let injected = a
            .client
            .execute(
                "return [document.querySelectorAll('#messages img, #messages b').length, \
                 document.querySelectorAll('#messages a[href^=\"javascript\"]').length, \
                 document.querySelectorAll('#messages a[href=\"https://example.org/menu\"]').length]",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(injected, serde_json::json!([0, 0, 1]));
        a.wait_text("bob@y.example: Markup stays text: <img").await;
        a.shot("04-markup").await;

        a.client.close().await.unwrap();
        b.client.close().await.unwrap();
    });
}
