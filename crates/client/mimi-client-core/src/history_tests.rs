#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn entry(timestamp: u64, size: usize) -> Entry {
    let client = ClientUri::parse("mimi://a.example/d/u/d").unwrap();
    Entry {
        sender: client.user_hint().unwrap(),
        client,
        timestamp,
        bytes: vec![0; size],
        imported: false,
    }
}

#[test]
fn the_newest_entries_that_fit_are_kept_in_order() {
    let log: Vec<Entry> = (1..=5).map(|t| entry(t * 1000, 10)).collect();
    let all = HistoryLimits::default();
    assert_eq!(newest_fitting(&log, 0, &all), (log.clone(), false));
    let by_bytes = HistoryLimits {
        max_bundle_bytes: 25,
        ..all
    };
    let (kept, truncated) = newest_fitting(&log, 0, &by_bytes);
    assert!(truncated);
    assert_eq!(kept, log[3..].to_vec());
    let (kept, truncated) = newest_fitting(&log, 3000, &all);
    assert!(truncated);
    assert_eq!(kept, log[2..].to_vec());
}

#[test]
fn a_time_limit_counts_back_from_now() {
    assert_eq!(earliest_ms(10_000, None), 0);
    assert_eq!(earliest_ms(10_000, Some(3600)), 6_400_000);
    assert_eq!(earliest_ms(10, Some(3600)), 0);
}
