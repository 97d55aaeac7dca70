//! Presentation: the transcripts side by side (one band per provider, its two devices in
//! columns, one row per message) or one block per device, wrapped to a width.

use super::federation::DOMAINS;
use super::model::DeviceView;
use super::script::{CAST, device_name};

/// Words of `text` in lines of at most `width` characters (longer words are cut).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// A device's line for `label`, if it shows that message.
fn cell(view: &DeviceView, label: &str) -> Option<String> {
    view.messages
        .iter()
        .find(|m| m.label == label)
        .map(|m| m.render())
}

fn status(view: &DeviceView) -> String {
    if view.active {
        format!(
            "member: {} users, {} devices",
            view.participants, view.devices
        )
    } else {
        "not a member".to_owned()
    }
}

/// One band per provider: its devices in columns, one row per message label (in the order
/// sent), `·` where a device does not show the message.
pub(crate) fn table(views: &[DeviceView], order: &[String], width: usize) -> String {
    const LABEL: usize = 11;
    const GAP: &str = " │ ";
    let mut out = String::new();
    for (p, domain) in DOMAINS.iter().enumerate() {
        let devices: Vec<usize> = CAST
            .iter()
            .enumerate()
            .filter(|(_, c)| c.2 == p)
            .map(|(i, _)| i)
            .collect();
        let columns = devices.len().max(1);
        let column = (width.saturating_sub(LABEL + GAP.len() * columns) / columns).max(12);
        let total = LABEL + (column + GAP.chars().count()) * columns;
        let rule = "─".repeat(total.saturating_sub(domain.len() + 4));
        out.push_str(&format!("── {domain} {rule}\n"));
        let mut header = pad("", LABEL);
        let mut state = pad("", LABEL);
        for d in &devices {
            let view = views.get(*d).cloned().unwrap_or_default();
            header.push_str(GAP);
            header.push_str(&pad(&device_name(*d), column));
            state.push_str(GAP);
            state.push_str(&pad(&status(&view), column));
        }
        out.push_str(header.trim_end());
        out.push('\n');
        out.push_str(state.trim_end());
        out.push('\n');
        for label in order {
            let cells: Vec<Vec<String>> = devices
                .iter()
                .map(|d| {
                    views
                        .get(*d)
                        .and_then(|v| cell(v, label))
                        .map_or_else(|| vec!["·".to_owned()], |text| wrap(&text, column))
                })
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1);
            for row in 0..height {
                let mut line = pad(if row == 0 { label } else { "" }, LABEL);
                for lines in &cells {
                    line.push_str(GAP);
                    line.push_str(&pad(lines.get(row).map_or("", String::as_str), column));
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

/// One block per device: its name, state and every line it shows.
pub(crate) fn blocks(views: &[DeviceView], width: usize) -> String {
    let mut out = String::new();
    for (d, view) in views.iter().enumerate() {
        out.push_str(&format!(
            "── {} ({} messages, {})\n",
            device_name(d),
            view.messages.len(),
            status(view)
        ));
        for message in &view.messages {
            let lines = wrap(&message.render(), width.saturating_sub(17));
            for (i, line) in lines.iter().enumerate() {
                let label = if i == 0 { message.label.as_str() } else { "" };
                out.push_str(&format!("   {label:<12} {line}\n"));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::model::Shown;

    #[test]
    fn wrapping_keeps_words_and_cuts_only_long_ones() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert!(
            wrap("x ".repeat(100).as_str(), 10)
                .iter()
                .all(|l| l.len() <= 10)
        );
    }

    #[test]
    fn the_table_puts_one_message_per_row_and_marks_what_a_device_lacks() {
        let mut views = vec![DeviceView::default(); CAST.len()];
        views[0].active = true;
        views[0].participants = 2;
        views[0].messages.push(Shown::new("hello", "alice", "Hi"));
        views[0]
            .messages
            .push(Shown::new("late", "charlie", "only for Alice"));
        views[1].messages.push(Shown::new("hello", "alice", "Hi"));
        let order = vec!["hello".to_owned(), "late".to_owned()];
        let text = table(&views, &order, 100);
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        let late = text.lines().find(|l| l.starts_with("late")).unwrap();
        assert!(late.contains("charlie: only for Alice"));
        assert!(late.trim_end().ends_with('·'), "{late}");
        assert!(text.contains("alice/phone@x.example"));
        assert!(text.contains("member: 2 users, 0 devices"));
    }
}
