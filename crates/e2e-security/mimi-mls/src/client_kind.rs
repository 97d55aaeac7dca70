//! The bot / logging-client marker of a client certificate (our reading, `mimi_room::readings`,
//! "Bots and logging clients"): the provider that issues a client's credential says, in a
//! non-critical private X.509 extension, that the client is a bot (with the name and homepage
//! `bot_policy` lists bots by) or a logging client. A person's device carries no marker. The
//! credential keeps the RFC 9420 §5.3 layout; the marker is inside the leaf certificate, so
//! every party that validates the credential reads it, and only the issuing provider can set it.
//!
//! ```text
//! MimiClientKind ::= SEQUENCE {
//!     kind      ENUMERATED { bot(1), logger(2) },
//!     name      UTF8String,   -- a bot's name; empty for a logging client
//!     homepage  IA5String     -- a bot's homepage URI; empty for a logging client
//! }
//! ```
//!
//! The extension's OID sits under the documentation enterprise number of RFC 5612 until MIMI
//! has one of its own: [`CLIENT_KIND_OID`].

use std::borrow::Cow;

use mimi_room::ClientKind;
use x509_parser::asn1_rs::{
    Any, Enumerated, FromDer, Ia5String, Oid, Sequence, Tag, ToDer, Utf8String,
};

use crate::error::CredentialError;

/// The extension's OID arcs (`1.3.6.1.4.1.32473.77.1`, provisional: see the module); the one
/// place it is written down.
pub const CLIENT_KIND_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 77, 1];

/// [`CLIENT_KIND_OID`] as the certificate parser names OIDs: its DER content octets, built
/// once (a test checks them against the arcs).
pub(crate) const CLIENT_KIND_OID_DER: Oid<'static> = Oid::new(Cow::Borrowed(&[
    0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x4d, 0x01,
]));

const KIND_BOT: u8 = 1;
const KIND_LOGGER: u8 = 2;

/// The longest name or homepage a marker carries (bytes).
pub const MAX_MARKER_FIELD: usize = 1024;

fn bad(what: &str) -> CredentialError {
    CredentialError::Malformed(format!("client kind extension: {what}"))
}

/// The DER of `MimiClientKind { kind, name, homepage }` (no checks on the fields).
fn encode_fields(code: u8, name: &str, homepage: &str) -> Result<Vec<u8>, CredentialError> {
    let issue = |e| CredentialError::Issue(format!("client kind extension: {e}"));
    let mut body = Vec::new();
    Enumerated::new(u32::from(code))
        .write_der(&mut body)
        .map_err(issue)?;
    Utf8String::new(name).write_der(&mut body).map_err(issue)?;
    Ia5String::new(homepage)
        .write_der(&mut body)
        .map_err(issue)?;
    Sequence::new(body.into()).to_der_vec().map_err(issue)
}

/// The DER content of the extension for `kind`; `None` for a person's device (no marker).
pub(crate) fn encode(kind: &ClientKind) -> Result<Option<Vec<u8>>, CredentialError> {
    let (code, name, homepage) = match kind {
        ClientKind::Person => return Ok(None),
        ClientKind::Bot { name, homepage } => (KIND_BOT, name.as_str(), homepage.as_str()),
        ClientKind::Logger => (KIND_LOGGER, "", ""),
    };
    if name.len() > MAX_MARKER_FIELD || homepage.len() > MAX_MARKER_FIELD {
        return Err(CredentialError::Issue(format!(
            "a bot's name and homepage are at most {MAX_MARKER_FIELD} bytes each"
        )));
    }
    if code == KIND_BOT && name.is_empty() {
        return Err(CredentialError::Issue("a bot needs a name".into()));
    }
    if !homepage.is_ascii() {
        return Err(CredentialError::Issue(
            "a bot's homepage is an ASCII URI".into(),
        ));
    }
    encode_fields(code, name, homepage).map(Some)
}

/// Decodes the extension's DER content; the whole input must be one `MimiClientKind`.
pub(crate) fn decode(input: &[u8]) -> Result<ClientKind, CredentialError> {
    let (rest, seq) = Sequence::from_der(input).map_err(|e| bad(&format!("sequence: {e}")))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    let body: &[u8] = &seq.content;
    let (body, code) = Any::from_der(body).map_err(|e| bad(&format!("kind: {e}")))?;
    if code.tag() != Tag::Enumerated {
        return Err(bad(&format!("kind: unexpected tag {}", code.tag())));
    }
    let (body, name) = Utf8String::from_der(body).map_err(|e| bad(&format!("name: {e}")))?;
    let (body, homepage) = Ia5String::from_der(body).map_err(|e| bad(&format!("homepage: {e}")))?;
    if !body.is_empty() {
        return Err(bad("trailing fields"));
    }
    let (name, homepage) = (name.as_ref(), homepage.as_ref());
    match code.data {
        [KIND_BOT] if !name.is_empty() => Ok(ClientKind::Bot {
            name: name.to_owned(),
            homepage: homepage.to_owned(),
        }),
        [KIND_BOT] => Err(bad("a bot needs a name")),
        [KIND_LOGGER] if name.is_empty() && homepage.is_empty() => Ok(ClientKind::Logger),
        [KIND_LOGGER] => Err(bad("a logging client carries no name or homepage")),
        _ => Err(bad("unknown kind")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oid_constant_is_the_arcs() {
        assert_eq!(CLIENT_KIND_OID_DER, Oid::from(CLIENT_KIND_OID).unwrap());
        assert_eq!(CLIENT_KIND_OID_DER.to_id_string(), "1.3.6.1.4.1.32473.77.1");
    }

    #[test]
    fn markers_round_trip_and_strays_are_refused() {
        let bot = ClientKind::Bot {
            name: "Standup".into(),
            homepage: "https://bots.example/standup".into(),
        };
        for kind in [bot, ClientKind::Logger] {
            let der = encode(&kind).unwrap().unwrap();
            assert_eq!(decode(&der).unwrap(), kind);
            let mut longer = der.clone();
            longer.push(0);
            assert!(decode(&longer).is_err(), "trailing byte accepted");
            assert!(
                decode(&der[..der.len() - 1]).is_err(),
                "truncation accepted"
            );
        }
        assert_eq!(encode(&ClientKind::Person).unwrap(), None);
        let long = ClientKind::Bot {
            name: "n".repeat(300),
            homepage: "https://bots.example/".into(),
        };
        let der = encode(&long).unwrap().unwrap();
        assert_eq!(decode(&der).unwrap(), long);
        // A nameless bot, an unknown kind, a logger with a name.
        for (code, name) in [(KIND_BOT, ""), (9, "x"), (KIND_LOGGER, "x")] {
            let out = encode_fields(code, name, "").unwrap();
            assert!(decode(&out).is_err(), "{code} {name:?} accepted");
        }
        // The bytes are the module's layout: SEQUENCE { ENUMERATED 2, "" , "" }.
        assert_eq!(
            encode(&ClientKind::Logger).unwrap().unwrap(),
            [0x30, 0x07, 0x0a, 0x01, 0x02, 0x0c, 0x00, 0x16, 0x00]
        );
        // A homepage outside IA5 is refused.
        let mut wrong = encode_fields(KIND_BOT, "n", "h").unwrap();
        let last = wrong.len() - 1;
        wrong[last] = 0xe9;
        assert!(decode(&wrong).is_err(), "non-IA5 homepage accepted");
    }
}
