//! What this process has read from certificates, shared by every party in it (issue 16 item 2:
//! the devices of a load generator or of a multi-account client, the hub beside them): a
//! member's certificate is parsed once, and its chain to a pinned CA checked once per CA,
//! however many devices meet it.
//!
//! Entries are keyed by the SHA-256 of the leaf certificate's DER. What a [`ParsedLeaf`] holds
//! (whom it names, its validity window, the key it certifies, whether it is a CA, its key
//! usage) depends on those bytes alone. Whether a pinned CA issued it (issuer name and
//! signature) depends on them and on the CA certificate's DER: that is remembered per pair of
//! digests. Nothing else is: the validity windows against `now`, the CA pinned for the
//! domain, the key a leaf must certify are checked on every validation
//! ([`crate::TrustStore::validate`]), and nothing that failed is kept, so the cache answers
//! exactly as a fresh validation would.
//!
//! The cache is bounded: past [`MAX_ENTRIES`] certificates it starts over. Only certificates
//! a pinned CA issued are kept, so a peer sending certificates nobody trusts cannot crowd it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sha2::{Digest as _, Sha256};
use x509_parser::certificate::{Validity as CertValidity, X509Certificate};

use crate::credential::LeafFacts;

/// A SHA-256 digest of DER bytes.
pub(crate) type DerDigest = [u8; 32];

/// The digest a cache entry is keyed by.
pub(crate) fn der_digest(der: &[u8]) -> DerDigest {
    Sha256::digest(der).into()
}

/// How many leaf certificates (and as many issuer checks) the cache holds before it starts
/// over: a few MB, enough for the members of every room of a process's devices.
pub(crate) const MAX_ENTRIES: usize = 1 << 15;

/// What one certificate says, read once (no trust decision).
#[derive(Debug)]
pub(crate) struct ParsedLeaf {
    /// Whom it names and how long it is valid.
    pub(crate) facts: LeafFacts,
    /// Its notBefore / notAfter.
    pub(crate) validity: CertValidity,
    /// The public key it certifies (the subjectPublicKey bits).
    pub(crate) key: Vec<u8>,
    /// Whether it is a CA certificate.
    pub(crate) is_ca: bool,
    /// Whether its key usage extension allows digitalSignature.
    pub(crate) digital_signature: bool,
}

impl ParsedLeaf {
    /// Reads what the cache keeps from a parsed certificate.
    pub(crate) fn of(cert: &X509Certificate<'_>, facts: LeafFacts) -> Self {
        Self {
            facts,
            validity: cert.validity().clone(),
            key: cert.public_key().subject_public_key.data.to_vec(),
            is_ca: cert.is_ca(),
            digital_signature: matches!(
                cert.key_usage(),
                Ok(Some(ku)) if ku.value.digital_signature()
            ),
        }
    }
}

#[derive(Default)]
struct Cache {
    leaves: HashMap<DerDigest, Arc<ParsedLeaf>>,
    /// (leaf, CA) pairs whose issuer name and signature verified.
    issued: HashSet<(DerDigest, DerDigest)>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<Cache>> {
    // A panic while holding the lock cannot leave a half-written entry worth refusing:
    // every insertion is one call.
    CACHE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The parsed leaf whose DER has digest `leaf`, if cached.
pub(crate) fn leaf(leaf: &DerDigest) -> Option<Arc<ParsedLeaf>> {
    lock().as_ref()?.leaves.get(leaf).cloned()
}

/// Remembers a parsed leaf (only ever one that a pinned CA issued).
pub(crate) fn remember_leaf(leaf: DerDigest, parsed: Arc<ParsedLeaf>) {
    let mut guard = lock();
    let cache = guard.get_or_insert_with(Cache::default);
    if cache.leaves.len() >= MAX_ENTRIES {
        cache.leaves.clear();
    }
    cache.leaves.insert(leaf, parsed);
}

/// Whether the CA certificate with digest `ca` was found to have issued the leaf `leaf`.
pub(crate) fn issued_by(leaf: &DerDigest, ca: &DerDigest) -> bool {
    lock()
        .as_ref()
        .is_some_and(|c| c.issued.contains(&(*leaf, *ca)))
}

/// Remembers that the CA certificate `ca` issued the leaf `leaf` (its subject is the leaf's
/// issuer and its key verified the leaf's signature).
pub(crate) fn remember_issued(leaf: DerDigest, ca: DerDigest) {
    let mut guard = lock();
    let cache = guard.get_or_insert_with(Cache::default);
    if cache.issued.len() >= MAX_ENTRIES {
        cache.issued.clear();
    }
    cache.issued.insert((leaf, ca));
}
