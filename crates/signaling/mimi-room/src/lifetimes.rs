//! `mls_operational_policy`'s `max_kp_lifetime` and `max_credential_lifetime` (room-policy
//! §4.7, RFC 9750 §7): a client added by `Add` brings a KeyPackage and an X.509 credential
//! whose lifetimes (`not_after - not_before`, seconds) must not exceed them; a client that
//! joins by external commit brings its credential only, held to `max_credential_lifetime`. Our readings
//! (`readings.rs`, "MLS operational parameters"): the unit is the second, as in MLS
//! lifetimes; 0 sets no limit; an add is held to the policy in force before the commit and
//! to the one it leaves, so that a commit cannot loosen the limit for its own adds.

use crate::denied::Denied;
use crate::state::RoomState;
use crate::summary::CommitSummary;

/// Whether every client `commit` adds keeps the lifetimes of `state`'s and `next`'s
/// operational policies.
pub(crate) fn check_lifetimes(
    state: &RoomState,
    next: &RoomState,
    commit: &CommitSummary,
) -> Result<(), Denied> {
    let policies = [state.operational_policy(), next.operational_policy()];
    for policy in policies.into_iter().flatten() {
        for added in &commit.added_lifetimes {
            let max_s = policy.max_kp_lifetime;
            if let Some(lifetime_s) = added.key_package_s
                && max_s != 0
                && lifetime_s > max_s
            {
                return Err(Denied::KeyPackageLifetime {
                    client: added.client.clone(),
                    lifetime_s,
                    max_s,
                });
            }
            let max_s = policy.max_credential_lifetime;
            if max_s != 0 && added.credential_s > max_s {
                return Err(Denied::CredentialLifetime {
                    client: added.client.clone(),
                    lifetime_s: added.credential_s,
                    max_s,
                });
            }
        }
    }
    Ok(())
}
