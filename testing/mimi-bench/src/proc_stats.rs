//! Process figures from `/proc/self`: resident memory and CPU time per thread group.
//!
//! Servers and clients share one process here, so CPU is attributed by thread name: each
//! provider's runtime names its threads `srv<i>-<role>`, the clients' runtime `bench-clients`,
//! and SQLite connections run on `sqlx-sqlite-*` threads (clients' and servers' alike).

use std::collections::BTreeMap;

/// Clock ticks per second of `/proc/*/stat` times (USER_HZ, 100 on Linux everywhere we run).
const TICKS_PER_SECOND: f64 = 100.0;

/// Resident set size of this process in KiB (`VmRSS`), if `/proc` is readable.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds (user + system) of this process's live threads, grouped by thread-name prefix
/// (the part before the first `-` digit run is kept as written: `srv0-hub`, `bench-clients`,
/// `sqlx-sqlite`, ...). Threads that ended are not counted: take the difference of two
/// snapshots taken while the same threads run.
pub fn cpu_by_group() -> BTreeMap<String, f64> {
    let mut groups = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return groups;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, seconds)) = parse_stat(&stat) {
            *groups.entry(group_of(&name)).or_insert(0.0) += seconds;
        }
    }
    groups
}

/// CPU seconds of the whole process (all threads, also those that ended).
pub fn cpu_total() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat).map(|(_, s)| s)
}

/// `(comm, utime + stime in seconds)` of one `stat` line.
fn parse_stat(stat: &str) -> Option<(String, f64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the comm: state is field 3; utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / TICKS_PER_SECOND))
}

/// `sqlx-sqlite-worker-12` → `sqlx-sqlite-worker`; `srv0-hub` stays.
fn group_of(name: &str) -> String {
    name.trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('-')
        .to_owned()
}

/// `after - before` per group (groups only in `after` count from zero).
pub fn delta(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_with_spaces_in_the_name() {
        let line = "42 (sqlx sqlite) S 1 1 1 0 -1 4194624 10 0 0 0 250 50 0 0 20 0 1 0";
        let (name, seconds) = parse_stat(line).unwrap();
        assert_eq!(name, "sqlx sqlite");
        assert!((seconds - 3.0).abs() < 1e-9);
        assert_eq!(group_of("sqlx-sqlite-worker-12"), "sqlx-sqlite-worker");
        assert_eq!(group_of("srv0-hub"), "srv0-hub");
    }

    #[test]
    fn this_process_has_figures() {
        assert!(rss_kib().is_some_and(|r| r > 0));
        assert!(cpu_total().is_some());
        assert!(!cpu_by_group().is_empty());
    }
}
