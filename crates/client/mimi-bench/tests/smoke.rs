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
