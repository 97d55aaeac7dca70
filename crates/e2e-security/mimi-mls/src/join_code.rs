//! Join codes on the MLS side: how a joiner presents its code in the external commit (a Safe
//! AAD item `join_code_aad`, ours), how the hub and members find it, and the SHA-256 digest the
//! room's `join_links` keep (see `mimi_room::components::JoinCodeTerms`).

use openmls::prelude::{SafeAad, SafeAadItem};
use sha2::{Digest as _, Sha256};
use tls_codec::{Deserialize as _, Serialize as _};

use mimi_types::codepoints::ComponentId;

use crate::error::MlsError;

/// The SHA-256 digest of a join code, as `join_links` keep it.
pub fn join_code_digest(code: &[u8]) -> Vec<u8> {
    Sha256::digest(code).to_vec()
}

/// The `authenticated_data` of an external commit presenting `code`: a Safe AAD holding one
/// `join_code_aad` item.
pub(crate) fn join_code_aad(code: &[u8]) -> Result<Vec<u8>, MlsError> {
    let item = SafeAadItem::new(ComponentId::JOIN_CODE_AAD.value(), code.to_vec());
    SafeAad::from_items(vec![item])
        .map_err(MlsError::mls)?
        .tls_serialize_detached()
        .map_err(MlsError::mls)
}

/// The join code an external commit's `authenticated_data` presents: a `join_code_aad` item
/// of the Safe AAD it starts with, or of the Safe AAD right after an empty one (openmls puts an
/// empty Safe AAD before an external commit's own `aad` in rooms whose GroupContext has
/// `safe_aad`). Anything else presents none.
pub(crate) fn presented_join_code(aad: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = aad;
    for _ in 0..2 {
        let items = Vec::<SafeAadItem>::tls_deserialize(&mut bytes).ok()?;
        if let Some(item) = items
            .iter()
            .find(|i| i.component_id() == ComponentId::JOIN_CODE_AAD.value())
        {
            return Some(item.data().to_vec()).filter(|c| !c.is_empty());
        }
        if !items.is_empty() {
            return None;
        }
    }
    None
}
