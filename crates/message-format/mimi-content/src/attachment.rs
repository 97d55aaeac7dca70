//! Attachments: seal file bytes with AES-128-GCM (the mandatory AEAD, digest §5.3) and hash the
//! stored object with SHA-256; open them again after download.
//!
//! Where the draft is silent we choose: `contentHash` and `size` describe the object at the URL
//! (the ciphertext with its tag), so a receiver can check the download before decrypting.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::codepoints::{AeadAlgorithm, HashAlgorithm};
use crate::model::{AttachmentKey, ExternalPart};

/// Why an attachment could not be sealed or opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// The part names an AEAD algorithm we do not implement.
    #[error("encryption algorithm {0} is not supported (only AES-128-GCM and none)")]
    UnsupportedAead(AeadAlgorithm),
    /// The part names a hash algorithm we do not implement.
    #[error("hash algorithm {0} is not supported (only SHA-256 and none)")]
    UnsupportedHash(HashAlgorithm),
    /// The downloaded bytes do not have the announced size.
    #[error("downloaded {found} bytes but the part announces {expected}")]
    SizeMismatch {
        /// Size in the part.
        expected: u64,
        /// Bytes downloaded.
        found: usize,
    },
    /// The downloaded bytes do not match the content hash.
    #[error("downloaded bytes do not match the part's content hash: refuse the file")]
    HashMismatch,
    /// The key or nonce length does not fit the algorithm.
    #[error("key or nonce has the wrong length for the algorithm")]
    KeyMaterialLength,
    /// Authentication failed: wrong key, nonce or aad, or tampered ciphertext.
    #[error("attachment failed to decrypt (wrong key or tampered file)")]
    DecryptionFailed,
    /// Encryption failed (plaintext too large for AES-GCM).
    #[error("attachment could not be encrypted (too large for AES-GCM)")]
    EncryptionFailed,
}

/// An encrypted attachment ready to upload, with the key material for its [`ExternalPart`].
#[derive(Clone, Debug)]
pub struct SealedAttachment {
    /// Bytes to upload.
    pub ciphertext: Vec<u8>,
    /// The fresh AES-128-GCM key.
    pub key: AttachmentKey,
    /// The fresh 12-byte nonce.
    pub nonce: Vec<u8>,
    /// The additional authenticated data used.
    pub aad: Vec<u8>,
    /// SHA-256 of `ciphertext`.
    pub content_hash: Vec<u8>,
}

impl SealedAttachment {
    /// The external part describing the upload at `url`.
    pub fn external_part(
        &self,
        url: impl Into<String>,
        content_type: impl Into<String>,
        filename: impl Into<String>,
        description: impl Into<String>,
    ) -> ExternalPart {
        ExternalPart {
            content_type: content_type.into(),
            url: url.into(),
            expires: 0,
            size: self.ciphertext.len() as u64,
            enc_alg: AeadAlgorithm::AES_128_GCM,
            key: self.key.clone(),
            nonce: self.nonce.clone(),
            aad: self.aad.clone(),
            hash_alg: HashAlgorithm::SHA_256,
            content_hash: self.content_hash.clone(),
            description: description.into(),
            filename: filename.into(),
        }
    }
}

/// Encrypts file bytes with a fresh AES-128-GCM key and nonce from `rng`.
pub fn seal_attachment<R: RngCore + CryptoRng>(
    rng: &mut R,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<SealedAttachment, AttachmentError> {
    let mut key = Zeroizing::new([0u8; 16]);
    rng.fill_bytes(key.as_mut());
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher =
        Aes128Gcm::new_from_slice(key.as_ref()).map_err(|_| AttachmentError::KeyMaterialLength)?;
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| AttachmentError::EncryptionFailed)?;
    let content_hash = Sha256::digest(&ciphertext).to_vec();
    Ok(SealedAttachment {
        ciphertext,
        key: AttachmentKey(key.to_vec()),
        nonce: nonce.to_vec(),
        aad: aad.to_vec(),
        content_hash,
    })
}

/// Verifies downloaded bytes against the part (size, hash) and decrypts them.
pub fn open_attachment(
    part: &ExternalPart,
    downloaded: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
    if part.size != 0 && part.size != downloaded.len() as u64 {
        return Err(AttachmentError::SizeMismatch {
            expected: part.size,
            found: downloaded.len(),
        });
    }
    match part.hash_alg {
        HashAlgorithm::NONE => {}
        HashAlgorithm::SHA_256 => {
            if Sha256::digest(downloaded).as_slice() != part.content_hash.as_slice() {
                return Err(AttachmentError::HashMismatch);
            }
        }
        other => return Err(AttachmentError::UnsupportedHash(other)),
    }
    match part.enc_alg {
        AeadAlgorithm::NONE => Ok(Zeroizing::new(downloaded.to_vec())),
        AeadAlgorithm::AES_128_GCM => {
            if part.nonce.len() != 12 {
                return Err(AttachmentError::KeyMaterialLength);
            }
            let cipher = Aes128Gcm::new_from_slice(part.key.as_bytes())
                .map_err(|_| AttachmentError::KeyMaterialLength)?;
            cipher
                .decrypt(
                    Nonce::from_slice(&part.nonce),
                    Payload {
                        msg: downloaded,
                        aad: &part.aad,
                    },
                )
                .map(Zeroizing::new)
                .map_err(|_| AttachmentError::DecryptionFailed)
        }
        other => Err(AttachmentError::UnsupportedAead(other)),
    }
}
