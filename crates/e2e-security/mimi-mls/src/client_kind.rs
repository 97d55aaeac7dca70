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

use mimi_room::ClientKind;

use crate::error::CredentialError;

/// The extension's OID arcs (`1.3.6.1.4.1.32473.77.1`, provisional: see the module).
pub const CLIENT_KIND_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 77, 1];

/// [`CLIENT_KIND_OID`] in dotted form, as the certificate parser names it.
pub(crate) const CLIENT_KIND_OID_DOTTED: &str = "1.3.6.1.4.1.32473.77.1";

const TAG_SEQUENCE: u8 = 0x30;
const TAG_ENUMERATED: u8 = 0x0a;
const TAG_UTF8: u8 = 0x0c;
const TAG_IA5: u8 = 0x16;
const KIND_BOT: u8 = 1;
const KIND_LOGGER: u8 = 2;

/// The longest name or homepage a marker carries (bytes).
pub const MAX_MARKER_FIELD: usize = 1024;

fn bad(what: &str) -> CredentialError {
    CredentialError::Malformed(format!("client kind extension: {what}"))
}

fn der(tag: u8, value: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
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
    let mut body = Vec::new();
    der(TAG_ENUMERATED, &[code], &mut body);
    der(TAG_UTF8, name.as_bytes(), &mut body);
    der(TAG_IA5, homepage.as_bytes(), &mut body);
    let mut out = Vec::new();
    der(TAG_SEQUENCE, &body, &mut out);
    Ok(Some(out))
}

/// Reads one DER element of `tag` (definite, minimal length) off the front of `input`.
fn take<'a>(input: &mut &'a [u8], tag: u8, what: &str) -> Result<&'a [u8], CredentialError> {
    let (&t, rest) = input.split_first().ok_or_else(|| bad(what))?;
    if t != tag {
        return Err(bad(&format!("{what}: unexpected tag {t:#04x}")));
    }
    let (&first, mut rest) = rest.split_first().ok_or_else(|| bad(what))?;
    let len = match first {
        n if n < 0x80 => usize::from(n),
        0x81 => {
            let (&n, r) = rest.split_first().ok_or_else(|| bad(what))?;
            rest = r;
            if n < 0x80 {
                return Err(bad(&format!("{what}: length not minimal")));
            }
            usize::from(n)
        }
        0x82 => {
            let (hi, r) = rest.split_first_chunk::<2>().ok_or_else(|| bad(what))?;
            rest = r;
            let n = usize::from(u16::from_be_bytes(*hi));
            if n <= 0xff {
                return Err(bad(&format!("{what}: length not minimal")));
            }
            n
        }
        _ => return Err(bad(&format!("{what}: length form"))),
    };
    if rest.len() < len {
        return Err(bad(&format!("{what}: truncated")));
    }
    let (value, rest) = rest.split_at(len);
    *input = rest;
    Ok(value)
}

/// Decodes the extension's DER content; the whole input must be one `MimiClientKind`.
pub(crate) fn decode(mut input: &[u8]) -> Result<ClientKind, CredentialError> {
    let mut body = take(&mut input, TAG_SEQUENCE, "sequence")?;
    if !input.is_empty() {
        return Err(bad("trailing bytes"));
    }
    let code = take(&mut body, TAG_ENUMERATED, "kind")?;
    let name = take(&mut body, TAG_UTF8, "name")?;
    let homepage = take(&mut body, TAG_IA5, "homepage")?;
    if !body.is_empty() {
        return Err(bad("trailing fields"));
    }
    let name = std::str::from_utf8(name).map_err(|_| bad("name is not UTF-8"))?;
    if !homepage.is_ascii() {
        return Err(bad("homepage is not IA5"));
    }
    let homepage = std::str::from_utf8(homepage).map_err(|_| bad("homepage"))?;
    match code {
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
        let mut body = Vec::new();
        for (code, name) in [(KIND_BOT, ""), (9, "x"), (KIND_LOGGER, "x")] {
            body.clear();
            super::der(TAG_ENUMERATED, &[code], &mut body);
            super::der(TAG_UTF8, name.as_bytes(), &mut body);
            super::der(TAG_IA5, b"", &mut body);
            let mut out = Vec::new();
            super::der(TAG_SEQUENCE, &body, &mut out);
            assert!(decode(&out).is_err(), "{code} {name:?} accepted");
        }
    }
}
