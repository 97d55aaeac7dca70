//! History handed over by another device of this user, merged into the view (see
//! `crate::history`).

use std::collections::BTreeSet;

use super::{Entry, RETRACTION_MARK, RoomView, retraction_key};

impl RoomView {
    /// How many messages of the timeline were handed over by another device of this user.
    pub fn imported_messages(&self) -> usize {
        self.messages.iter().filter(|m| m.imported).count()
    }

    /// Merges history handed over by another device of this user (see `history`): the
    /// entries whose message IDs are new go in front of what this device received itself
    /// (they precede its joining), with the earlier imports, in hub-timestamp order; the view
    /// is rebuilt by replaying the log (no policy asked: the sibling's verdicts, as for a
    /// restored record). Entries that do not apply are dropped. Returns how many were
    /// imported and how many skipped.
    pub(crate) fn import(&mut self, entries: Vec<Entry>) -> (usize, usize) {
        let total = entries.len();
        let mut fresh: Vec<Entry> = Vec::new();
        let mut ids = BTreeSet::new();
        for mut e in entries {
            let id = if e.bytes.first() == Some(&RETRACTION_MARK) {
                retraction_key(&e.bytes)
            } else {
                let Ok(id) = mimi_content::message_id_for(&e.sender, &self.room, &e.bytes) else {
                    continue;
                };
                id
            };
            if self.known.contains(&id) || !ids.insert(id) {
                continue;
            }
            e.imported = true;
            fresh.push(e);
        }
        if fresh.is_empty() {
            return (0, total);
        }
        let old = std::mem::take(&mut self.log);
        let (mut front, own): (Vec<Entry>, Vec<Entry>) = old.into_iter().partition(|e| e.imported);
        let previously = front.len();
        front.extend(fresh);
        // Stable: hub order among equal timestamps (each sibling's log is in hub order).
        front.sort_by_key(|e| e.timestamp);
        let rejections = std::mem::take(&mut self.rejections);
        let duplicates = self.duplicates;
        let mut rebuilt = RoomView::new(
            self.room.clone(),
            self.me.clone(),
            self.state.clone(),
            self.epoch,
        );
        rebuilt.active = self.active;
        let mut imported = 0usize;
        for e in front {
            if matches!(rebuilt.apply(e, false), Ok(Some(_))) {
                imported += 1;
            }
        }
        for e in own {
            let _ = rebuilt.apply(e, false);
        }
        rebuilt.rejections = rejections;
        rebuilt.duplicates = duplicates;
        *self = rebuilt;
        let added = imported.saturating_sub(previously);
        (added, total.saturating_sub(added))
    }
}
