//! Our `notify` extension header (`mimi_federation_api::withheld`, reading D32), read from a
//! request: the devices the hub withholds application messages from. The ephemeral relay
//! (`typing`) carries the same header.

use std::collections::BTreeSet;

use axum::http::HeaderMap;
use mimi_client_api::ErrorCode;
use mimi_federation_api::withheld::{WITHHELD_HEADER, parse_withheld};
use mimi_types::ClientUri;

use crate::error::ServerError;

/// Refuses a withheld list that names a device of another provider than `own` (ours): the
/// hub names only the receiving provider's devices. Both routes that carry the header check it.
pub(crate) fn check_own_devices(
    withheld: &BTreeSet<ClientUri>,
    own: &mimi_types::Domain,
) -> Result<(), ServerError> {
    match withheld.iter().find(|d| d.domain() != own) {
        None => Ok(()),
        Some(foreign) => Err(ServerError::api(
            ErrorCode::BadRequest,
            format!(
                "the {WITHHELD_HEADER} header names {foreign}, a device of another provider; \
                 name only devices of {own}"
            ),
        )),
    }
}

/// The devices our extension header names (none without it): every value must read.
pub(crate) fn withheld_devices(headers: &HeaderMap) -> Result<BTreeSet<ClientUri>, ServerError> {
    let refused = |why: String| ServerError::api(ErrorCode::BadRequest, why);
    let mut devices = BTreeSet::new();
    for value in headers.get_all(WITHHELD_HEADER) {
        let value = value
            .to_str()
            .map_err(|_| refused(format!("the {WITHHELD_HEADER} header is not ASCII")))?;
        let named = parse_withheld(value).map_err(|e| refused(e.to_string()))?;
        for device in named {
            if !devices.insert(device) {
                return Err(refused(format!(
                    "the {WITHHELD_HEADER} headers name a device twice"
                )));
            }
        }
    }
    Ok(devices)
}
