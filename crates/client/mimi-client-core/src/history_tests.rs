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

#[test]
fn trim_and_cap_forgets_the_expired_then_the_oldest() {
    use crate::history_room::trim_and_cap;
    let mut map: std::collections::BTreeMap<u32, u64> =
        (0..5).map(|k| (k, 100 + u64::from(k))).collect();
    // Under the cap: only the expired go (the ones before 102).
    trim_and_cap(&mut map, 10, |at| *at >= 102, |at| *at);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [2, 3, 4]);
    // At the cap: the oldest goes too, to make room for one more.
    trim_and_cap(&mut map, 3, |_| true, |at| *at);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [3, 4]);
    // Below the cap nothing more goes.
    trim_and_cap(&mut map, 3, |_| true, |at| *at);
    assert_eq!(map.len(), 2);
}
