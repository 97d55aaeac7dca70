//! The launcher through real servers: providers that answer on their ports, stops that free
//! them, and ports taken between choosing and binding.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

use super::*;

/// `GET /health` over a plain socket: (status line, body).
fn health(addr: SocketAddr) -> (String, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET /health HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

fn assert_healthy(provider: &LocalProvider) {
    let (status, body) = health(provider.client_addr);
    assert!(status.contains(" 200"), "{}: {status}", provider.domain);
    assert!(body.contains(r#""database":"ok""#), "{body}");
    assert!(
        TcpStream::connect(provider.federation_addr).is_ok(),
        "{}'s federation listener",
        provider.domain
    );
}

fn assert_free(addrs: &[SocketAddr]) {
    for addr in addrs {
        assert!(
            TcpListener::bind(addr).is_ok(),
            "{addr} is still bound after the stop"
        );
    }
}

fn addrs(providers: &[LocalProvider]) -> Vec<SocketAddr> {
    providers
        .iter()
        .flat_map(|p| [p.client_addr, p.federation_addr])
        .collect()
}

#[test]
fn three_providers_answer_health_on_their_ports_and_stop_frees_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = LocalOptions::numbered(3).unwrap();
    let mut federation = LocalFederation::start(dir.path(), &options).unwrap();
    let providers = federation.providers();
    assert_eq!(providers.len(), 3);
    let ports: BTreeSet<u16> = addrs(providers).iter().map(|a| a.port()).collect();
    assert_eq!(ports.len(), 6, "every listener has a port of its own");
    for (provider, domain) in providers.iter().zip(options.domains()) {
        assert_eq!(&provider.domain, domain);
        assert!(
            provider
                .config_path
                .starts_with(dir.path().join(domain.as_str()))
        );
        assert_eq!(
            provider.base_url(),
            format!("http://{}", provider.client_addr)
        );
        assert_healthy(provider);
    }
    let bound = addrs(federation.providers());

    federation.stop();
    assert!(federation.providers().iter().all(|p| !p.is_running()));
    assert_free(&bound);

    // A stopped provider starts again from its files on the same ports.
    let first = &mut federation.providers_mut()[0];
    first.restart().unwrap();
    assert_eq!(first.client_addr, bound[0]);
    assert_healthy(first);
    drop(federation);
    assert_free(&bound);
}

#[test]
fn providers_on_the_callers_runtime_stop_with_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let options = LocalOptions::numbered(2).unwrap();
    let runtime = Runtime::new().unwrap();
    let bound = runtime.block_on(async {
        let mut federation = LocalFederation::start_here(dir.path(), &options)
            .await
            .unwrap();
        let bound = addrs(federation.providers());
        let providers: Vec<_> = federation
            .providers()
            .iter()
            .map(|p| p.client_addr)
            .collect();
        let answers = tokio::task::spawn_blocking(move || {
            providers.into_iter().map(health).collect::<Vec<_>>()
        })
        .await
        .unwrap();
        for (status, _) in answers {
            assert!(status.contains(" 200"), "{status}");
        }
        federation.shutdown().await;
        bound
    });
    assert_free(&bound);
}

#[test]
fn blocking_starts_are_refused_on_a_runtime_thread() {
    let dir = tempfile::tempdir().unwrap();
    let options = LocalOptions::numbered(1).unwrap();
    let runtime = Runtime::new().unwrap();
    let refused = runtime.block_on(async { LocalFederation::start(dir.path(), &options) });
    assert!(
        matches!(refused, Err(LocalError::InsideRuntime)),
        "{refused:?}"
    );
}

#[test]
fn a_chosen_port_taken_before_the_start_is_chosen_again() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap();
    // The first address handed out (provider 0's federation listener) is held by `taken`.
    let handed = Mutex::new(0_usize);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let options = LocalOptions::numbered(2)
        .unwrap()
        .ports(Ports::Chosen(Arc::new(move || {
            let mut handed = handed.lock().unwrap();
            *handed += 1;
            if *handed == 1 {
                Ok(taken_addr)
            } else {
                free_loopback_addr()
            }
        })))
        .progress(move |event| {
            let shown = match event {
                LocalEvent::Retrying { error } => {
                    assert!(error.is_port_taken(), "{error}");
                    "retrying".to_owned()
                }
                LocalEvent::Started { index, .. } => format!("started {index}"),
                _ => return,
            };
            seen.lock().unwrap().push(shown);
        });
    let federation = LocalFederation::start(dir.path(), &options).unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        ["retrying", "started 0", "started 1"]
    );
    for provider in federation.providers() {
        assert_ne!(provider.federation_addr, taken_addr);
        assert_healthy(provider);
    }
    drop(taken);
}

#[test]
fn given_ports_are_used_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = taken.local_addr().unwrap().port();
    let retried = Arc::new(Mutex::new(false));
    let seen = retried.clone();
    let options = LocalOptions::numbered(1)
        .unwrap()
        .ports(Ports::Base(base))
        .progress(move |event| {
            if matches!(event, LocalEvent::Retrying { .. }) {
                *seen.lock().unwrap() = true;
            }
        });
    let error = LocalFederation::start(dir.path(), &options).unwrap_err();
    assert!(error.is_port_taken(), "{error}");
    assert!(
        !*retried.lock().unwrap(),
        "given ports are not chosen again"
    );
}

#[test]
fn base_ports_place_the_providers() {
    let options = LocalOptions::numbered(3).unwrap().ports(Ports::Base(20000));
    let placed = options.placement().unwrap();
    assert_eq!(placed[0].2.port(), 20000);
    assert_eq!(placed[2].2.port(), 20002);
    assert_eq!(placed[0].1.port(), 20010);
    assert_eq!(placed[2].1.port(), 20012);
    let twelve = LocalOptions::numbered(12)
        .unwrap()
        .ports(Ports::Base(20000));
    assert_eq!(twelve.placement().unwrap()[11].1.port(), 20023);
    let high = LocalOptions::numbered(3)
        .unwrap()
        .ports(Ports::Base(u16::MAX - 3));
    assert!(matches!(
        high.placement(),
        Err(LocalError::BasePortTooHigh { .. })
    ));
}

#[test]
fn a_taken_port_is_told_apart_from_other_failures() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let source = TcpListener::bind(addr).unwrap_err();
    assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
    let domain = Domain::parse("x.example").unwrap();
    let error = LocalError::Start {
        domain: domain.clone(),
        source: ServerError::Bind { addr, source },
    };
    assert!(error.is_port_taken());

    let refused = LocalError::Start {
        domain,
        source: ServerError::Bind {
            addr,
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        },
    };
    assert!(
        !refused.is_port_taken(),
        "only a taken port is worth another try"
    );
    assert!(!LocalError::InsideRuntime.is_port_taken());
}

#[test]
fn ports_handed_out_are_not_handed_out_again() {
    let mut seen = BTreeSet::new();
    for _ in 0..20 {
        assert!(seen.insert(free_loopback_addr().unwrap().port()));
    }
}

#[test]
fn configuration_changes_are_applied_in_order_and_saved() {
    let dir = tempfile::tempdir().unwrap();
    let options = LocalOptions::numbered(2)
        .unwrap()
        .database_url(1, "postgres://db.invalid/mimi")
        .limits(|limits| limits.max_blob_bytes = 4096)
        .configure(|i, provider| {
            if i == 0 {
                provider.config.limits.max_blob_bytes *= 2;
            }
        });
    let written = write_federation(dir.path(), &options).unwrap();
    let saved: Vec<Config> = written
        .iter()
        .map(|p| Config::load(&p.config_path).unwrap())
        .collect();
    for config in [&written[0].config, &saved[0]] {
        assert_eq!(config.limits.max_blob_bytes, 8192);
        assert_eq!(config.database.url, None);
    }
    for config in [&written[1].config, &saved[1]] {
        assert_eq!(config.limits.max_blob_bytes, 4096);
        assert_eq!(
            config.database.url.as_deref(),
            Some("postgres://db.invalid/mimi")
        );
    }
    // Each trusts the other, on the ports it was written with.
    let peer = &saved[0].peers[&written[1].domain];
    assert_eq!(peer.addresses, vec![written[1].config.federation_listen]);
}
