//! The room's `message_expiration_policy` (room-policy §7, component 0x0030) for new messages.
//!
//! Our reading (see `mimi_room::readings`, "Message expiration"):
//!
//! * The policy governs new timeline messages (plain, Markdown, replies, attachments). Edits and
//!   deletes keep their original's expiry (the content rules require it); reactions, unlikes and
//!   status reports have no lifetime of their own and are not held to it.
//! * A message's expiry duration is its `expires.time` when relative ("seconds after it is
//!   read"); when absolute, the seconds from when it was sent to `expires.time` (0 if that is
//!   already past). The sender measures from its own clock ([`Client::tick`]), receivers from
//!   the hub's acceptance time, allowing [`CLOCK_SLACK_S`] either way for the clocks and the
//!   queueing between them.
//! * `forbidden`: no new message may carry an expiry. `optional`: a message without one gets
//!   the default duration if the policy has one; one with an expiry must last
//!   `min..=max` seconds. `required`: as optional, and a message must expire (the default
//!   applies; without a default, the sender must give one).
//! * The sender applies the default and refuses anything else before sending
//!   ([`ClientError::ExpiryOutsidePolicy`]); receivers refuse a message that breaks the policy
//!   ([`crate::Rejection::Expiration`]): it is not shown, not clamped, as for every other
//!   content the policy refuses.

use mimi_content::{ContentBuilder, Expiration, MessageId};
use mimi_room::components::MessageExpiration;
use mimi_types::RoomUri;
use rand::{CryptoRng, RngCore};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// How far (seconds) a receiver lets an absolute expiry's duration stray outside the policy's
/// range: the sender measured it from its own clock, before the hub accepted the message.
pub const CLOCK_SLACK_S: u64 = 300;

/// The duration of `expires` for a message sent at `sent_s` (UNIX seconds).
pub(crate) fn duration_of(expires: Expiration, sent_s: u64) -> u64 {
    if expires.relative {
        u64::from(expires.time)
    } else {
        u64::from(expires.time).saturating_sub(sent_s)
    }
}

/// Whether a new message with `expires`, sent at `sent_s`, keeps `policy`; `slack` widens the
/// range (0 at the sender). The error says what the policy asks.
pub(crate) fn check_expiry(
    policy: Option<&MessageExpiration>,
    expires: Option<Expiration>,
    sent_s: u64,
    slack: u64,
) -> Result<(), String> {
    let (range, required) = match policy {
        None => return Ok(()),
        Some(MessageExpiration::Forbidden) => {
            return match expires {
                None => Ok(()),
                Some(_) => Err("the room forbids expiring messages".into()),
            };
        }
        Some(MessageExpiration::Optional(r)) => (r, false),
        Some(MessageExpiration::Required(r)) => (r, true),
    };
    let Some(expires) = expires else {
        return if required {
            Err("the room requires every message to expire".into())
        } else {
            Ok(())
        };
    };
    let duration = duration_of(expires, sent_s);
    let slack = if expires.relative { 0 } else { slack };
    let min = u64::from(range.min_expiration_duration).saturating_sub(slack);
    let max = u64::from(range.max_expiration_duration).saturating_add(slack);
    if (min..=max).contains(&duration) {
        Ok(())
    } else {
        Err(format!(
            "the message expires after {duration} s; the room allows {} to {} s",
            range.min_expiration_duration, range.max_expiration_duration
        ))
    }
}

/// The expiry a new message without one gets at `now_s`: the policy's default duration.
fn default_expiry(policy: Option<&MessageExpiration>, now_s: u64) -> Option<Expiration> {
    let (MessageExpiration::Optional(r) | MessageExpiration::Required(r)) = policy? else {
        return None;
    };
    let at = now_s.saturating_add(u64::from(r.default_expiration_duration?));
    Some(Expiration {
        relative: false,
        time: u32::try_from(at).unwrap_or(u32::MAX),
    })
}

impl Client {
    /// Tells the client the time (UNIX seconds). New messages are held to their room's
    /// `message_expiration_policy` by this clock (the default expiry starts from it); every
    /// call that takes `now` also moves it. The clock never goes back.
    pub fn tick(&mut self, now: u64) {
        self.clock = self.clock.max(now);
    }

    /// The expiry a new message in `room` gets when the user asks for `requested`: the room's
    /// default when none is asked for and the policy has one; `requested` if the policy allows
    /// it; otherwise [`ClientError::ExpiryOutsidePolicy`], saying what the room allows.
    pub fn expiry_for(
        &self,
        room: &RoomUri,
        requested: Option<Expiration>,
    ) -> Result<Option<Expiration>, ClientError> {
        let r = self
            .rooms
            .get(room)
            .ok_or_else(|| ClientError::NotMember { room: room.clone() })?;
        let policy = r.view.state().message_expiration();
        if policy.is_none() {
            return Ok(requested);
        }
        if self.clock == 0 {
            return Err(ClientError::misuse(format!(
                "{room} has a message expiration policy and this client was not told the time: \
                 call Client::tick(now) before sending"
            )));
        }
        let expires = requested.or_else(|| default_expiry(policy, self.clock));
        check_expiry(policy, expires, self.clock, 0).map_err(|error| {
            ClientError::ExpiryOutsidePolicy {
                room: room.clone(),
                error,
            }
        })?;
        Ok(expires)
    }

    /// Sends a new timeline message built by `builder`, with `requested` as its expiry, held to
    /// the room's expiration policy ([`Client::expiry_for`]).
    pub(crate) fn send_new<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        builder: ContentBuilder,
        requested: Option<Expiration>,
    ) -> Result<(OpId, MessageId), ClientError> {
        self.may_send(room)?;
        let builder = match self.expiry_for(room, requested)? {
            Some(e) if e.relative => builder.expires_after_read(e.time),
            Some(e) => builder.expires_at(e.time),
            None => builder,
        };
        self.send_checked(rng, room, builder)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use mimi_room::components::ExpirationRange;

    fn at(time: u32) -> Option<Expiration> {
        Some(Expiration {
            relative: false,
            time,
        })
    }

    fn after_read(time: u32) -> Option<Expiration> {
        Some(Expiration {
            relative: true,
            time,
        })
    }

    #[test]
    fn durations_are_held_to_the_range_with_slack_for_absolute_expiries_only() {
        let range = ExpirationRange {
            min_expiration_duration: 60,
            max_expiration_duration: 3600,
            default_expiration_duration: Some(600),
        };
        let optional = MessageExpiration::Optional(range.clone());
        let required = MessageExpiration::Required(range);
        let p = Some(&optional);
        assert!(check_expiry(p, None, 1000, 0).is_ok());
        assert!(check_expiry(p, at(1060), 1000, 0).is_ok());
        assert!(check_expiry(p, at(4600), 1000, 0).is_ok());
        assert!(check_expiry(p, at(1059), 1000, 0).is_err());
        assert!(check_expiry(p, at(4601), 1000, 0).is_err());
        // An expiry already past lasts 0 s.
        assert!(check_expiry(p, at(10), 1000, 0).is_err());
        // Receivers allow the clocks' slack, for absolute expiries only.
        assert!(check_expiry(p, at(1059), 1000, CLOCK_SLACK_S).is_ok());
        assert!(check_expiry(p, at(4600 + 300), 1000, CLOCK_SLACK_S).is_ok());
        assert!(check_expiry(p, at(4600 + 301), 1000, CLOCK_SLACK_S).is_err());
        assert!(check_expiry(p, after_read(59), 1000, CLOCK_SLACK_S).is_err());
        assert!(check_expiry(p, after_read(3600), 1000, CLOCK_SLACK_S).is_ok());
        // Required: no expiry is refused; the default is within the range.
        let r = Some(&required);
        assert!(check_expiry(r, None, 1000, 0).is_err());
        assert_eq!(default_expiry(r, 1000), at(1600));
        assert!(check_expiry(r, default_expiry(r, 1000), 1000, 0).is_ok());
        // Forbidden: no expiry at all; no policy: anything.
        let f = Some(&MessageExpiration::Forbidden);
        assert!(check_expiry(f, None, 1000, 0).is_ok());
        assert!(check_expiry(f, after_read(60), 1000, 0).is_err());
        assert_eq!(default_expiry(f, 1000), None);
        assert!(check_expiry(None, at(1), 1000, 0).is_ok());
    }
}
