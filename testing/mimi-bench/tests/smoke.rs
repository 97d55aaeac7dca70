//! The load generator end to end with tiny numbers: three providers in-process, a room of 6,
//! 2 senders of 10 messages. Every message reaches every other member exactly once. No speed
//! is asserted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_bench::{BenchConfig, run};

#[test]
fn six_members_two_senders_every_message_once() {
    let report = run(&BenchConfig {
        users: 6,
        senders: 2,
        messages: 10,
        max_seconds: 60,
        ..BenchConfig::default()
    })
    .unwrap();
    println!("{report}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(!report.cut_short);
    assert_eq!(report.sent, 20);
    assert_eq!(report.expected_deliveries, 20 * 5);
    assert_eq!(report.deliveries, 20 * 5);
    assert_eq!(report.duplicates, 0);
    assert_eq!(report.missing, 0);
    assert!(report.is_clean());
    assert_eq!(report.password_hash, "bench (64 KiB, 1 pass)");
    assert!(report.to_string().contains("register"), "{report}");
    // By default the senders run on a runtime of their own.
    assert!(!report.to_string().contains("--shared-runtime"), "{report}");
}

#[test]
fn raw_feeds_count_every_ciphertext_once_without_decrypting() {
    let report = run(&BenchConfig {
        users: 4,
        senders: 2,
        messages: 5,
        max_seconds: 60,
        skip_decryption: true,
        production_password_hashing: true,
        // The topology of runs before 2026-12-06: the senders among the receivers.
        sender_runtime: false,
        ..BenchConfig::default()
    })
    .unwrap();
    println!("{report}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.password_hash.starts_with("production"));
    assert_eq!(report.sent, 10);
    // Every member's feed, the sender's own included.
    assert_eq!(report.expected_deliveries, 10 * 4);
    assert_eq!(report.deliveries, 10 * 4);
    assert!(report.is_clean());
    assert!(report.to_string().contains("raw feeds"));
    assert!(report.to_string().contains("--shared-runtime"), "{report}");
}

#[test]
fn open_loop_sends_on_a_schedule_and_reports_its_lag() {
    let report = run(&BenchConfig {
        users: 3,
        senders: 1,
        messages: 5,
        max_seconds: 60,
        rate: Some(20.0),
        ..BenchConfig::default()
    })
    .unwrap();
    println!("{report}");
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.deliveries, 5 * 2);
    assert_eq!(report.rate, Some(20.0));
    assert!(report.to_string().contains("behind schedule"));
    let err = run(&BenchConfig {
        rate: Some(0.0),
        ..BenchConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("--rate"), "{err}");
}

#[test]
fn pinned_runs_work_or_are_refused_clearly() {
    let two_cpus = std::thread::available_parallelism().map_or(1, usize::from) >= 2;
    let result = run(&BenchConfig {
        users: 3,
        senders: 1,
        messages: 3,
        max_seconds: 60,
        pin_cpus: true,
        ..BenchConfig::default()
    });
    match result {
        Ok(report) => {
            assert!(cfg!(target_os = "linux") && two_cpus);
            assert!(report.is_clean(), "{report}");
            assert!(report.pinned);
            // The calling thread runs where it ran before.
            let after = std::thread::available_parallelism().map_or(1, usize::from) >= 2;
            assert!(after, "the caller's affinity was not restored");
        }
        Err(e) => {
            assert!(!(cfg!(target_os = "linux") && two_cpus), "{e:#}");
            let text = e.to_string();
            assert!(
                text.contains("Linux") || text.contains("two CPUs"),
                "{text}"
            );
        }
    }
}

#[test]
fn nonsense_sizes_are_refused() {
    for (users, senders) in [(1, 1), (4, 0), (3, 4)] {
        let err = run(&BenchConfig {
            users,
            senders,
            ..BenchConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("senders"), "{err}");
    }
}
