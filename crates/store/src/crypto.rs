//! Field encryption, blind indexes and the audit MAC: every secret byte Lantern handles goes through here.
//!
//! # Keys
//! A [`Keyring`] holds
//! - *data keys* (XChaCha20-Poly1305, 256-bit), each with a numeric id; one is *current* and encrypts new
//!   values, the others still decrypt values written before a rotation;
//! - a *blind-index key* (HMAC-SHA256) for exact-match lookups on encrypted values;
//! - an *audit key* (HMAC-SHA256) that seals the audit chain, so that someone who can write to the database
//!   but does not hold the key file cannot rewrite history undetected.
//!
//! The keyring lives in a TOML key file (or the `LANTERN_KEYS` environment variable holding the same text),
//! never in the database.
//!
//! # Ciphertext layout
//! ```text
//! byte 0      version (1)
//! bytes 1..5  data key id, u32 big-endian
//! bytes 5..29 XChaCha20 nonce (24 random bytes)
//! bytes 29..  ciphertext followed by the 16-byte Poly1305 tag
//! ```
//! The associated data is the column's *binding* (for example `users.full_name:<row id>`), so a ciphertext
//! copied into another row or column fails to decrypt.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::path::Path;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 24;

/// What can go wrong with keys or ciphertexts.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file could not be read.
    #[error("cannot read key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file's content is not a valid keyring.
    #[error("invalid key file: {0}")]
    Invalid(String),
    /// A ciphertext names a key the keyring does not hold.
    #[error("ciphertext was written with key {0}, which is not in the keyring")]
    UnknownKey(u32),
    /// The ciphertext is damaged, or was moved from another row or column, or the key is wrong.
    #[error("ciphertext does not authenticate (damaged, moved, or wrong key)")]
    Authentication,
    /// The bytes are not a Lantern ciphertext.
    #[error("not a Lantern ciphertext")]
    Format,
}

type HmacSha256 = Hmac<Sha256>;

/// The keys of one Lantern installation. Its `Debug` never prints key material.
#[derive(Clone)]
pub struct Keyring {
    data_keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    current: u32,
    blind_key: Zeroizing<[u8; 32]>,
    audit_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("data_key_ids", &self.data_keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    current: u32,
    blind_index_key: String,
    audit_key: String,
    data_keys: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: u32,
    key: String,
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(k.as_mut());
    k
}

fn decode_key(field: &str, b64: &str) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let bytes = Zeroizing::new(
        B64.decode(b64.trim())
            .map_err(|_| CryptoError::Invalid(format!("`{field}` is not base64")))?,
    );
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Invalid(format!("`{field}` must decode to 32 bytes")))?;
    Ok(Zeroizing::new(arr))
}

impl Keyring {
    /// A new keyring with fresh random keys (data key 1 current).
    pub fn generate() -> Self {
        let mut data_keys = BTreeMap::new();
        data_keys.insert(1, random_key());
        Keyring {
            data_keys,
            current: 1,
            blind_key: random_key(),
            audit_key: random_key(),
        }
    }

    /// Parses a key file's TOML text.
    pub fn from_toml(text: &str) -> Result<Self, CryptoError> {
        let file: KeyFile =
            toml::from_str(text).map_err(|e| CryptoError::Invalid(e.message().to_owned()))?;
        let mut data_keys = BTreeMap::new();
        for e in &file.data_keys {
            let k = decode_key(&format!("data_keys[id={}].key", e.id), &e.key)?;
            if data_keys.insert(e.id, k).is_some() {
                return Err(CryptoError::Invalid(format!(
                    "data key id {} appears twice",
                    e.id
                )));
            }
        }
        if !data_keys.contains_key(&file.current) {
            return Err(CryptoError::Invalid(format!(
                "`current` = {} names no data key",
                file.current
            )));
        }
        Ok(Keyring {
            data_keys,
            current: file.current,
            blind_key: decode_key("blind_index_key", &file.blind_index_key)?,
            audit_key: decode_key("audit_key", &file.audit_key)?,
        })
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, CryptoError> {
        let text = std::fs::read_to_string(path).map_err(|source| CryptoError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// The key file's TOML text for this keyring.
    pub fn to_toml(&self) -> String {
        let file = KeyFile {
            current: self.current,
            blind_index_key: B64.encode(self.blind_key.as_ref()),
            audit_key: B64.encode(self.audit_key.as_ref()),
            data_keys: self
                .data_keys
                .iter()
                .map(|(id, k)| KeyEntry {
                    id: *id,
                    key: B64.encode(k.as_ref()),
                })
                .collect(),
        };
        let body = toml::to_string(&file).expect("a keyring always serialises");
        format!(
            "# Lantern key file. Keep it outside the database and outside database backups:\n\
             # without it, encrypted fields cannot be read and the audit chain cannot be verified.\n{body}"
        )
    }

    /// Writes the key file, readable by its owner only, replacing any file at `path` atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(self.to_toml().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// The id of the data key that encrypts new values.
    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    /// Adds a fresh data key and makes it current; returns its id. Older keys stay for decryption.
    pub fn rotate(&mut self) -> u32 {
        let id = self.data_keys.keys().next_back().copied().unwrap_or(0) + 1;
        self.data_keys.insert(id, random_key());
        self.current = id;
        id
    }

    /// Drops every data key but the current one (after every value was re-encrypted).
    pub fn retire_old_keys(&mut self) {
        let current = self.current;
        self.data_keys.retain(|id, _| *id == current);
    }

    /// Encrypts `plaintext` under the current key, bound to `binding`.
    pub fn encrypt(&self, binding: &str, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.data_keys[&self.current];
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: binding.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut out = Vec::with_capacity(HEADER + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Encrypts a text value.
    pub fn encrypt_str(&self, binding: &str, plaintext: &str) -> Vec<u8> {
        self.encrypt(binding, plaintext.as_bytes())
    }

    /// The id of the key a ciphertext was written with.
    pub fn key_id_of(ciphertext: &[u8]) -> Result<u32, CryptoError> {
        if ciphertext.len() < HEADER + 16 || ciphertext[0] != VERSION {
            return Err(CryptoError::Format);
        }
        Ok(u32::from_be_bytes(
            ciphertext[1..5].try_into().expect("4 bytes"),
        ))
    }

    /// Decrypts a value written by [`Keyring::encrypt`] with the same binding.
    pub fn decrypt(&self, binding: &str, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = Self::key_id_of(ciphertext)?;
        let key = self.data_keys.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(&ciphertext[5..HEADER]),
                Payload {
                    msg: &ciphertext[HEADER..],
                    aad: binding.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Authentication)
    }

    /// Decrypts a text value.
    pub fn decrypt_string(&self, binding: &str, ciphertext: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.decrypt(binding, ciphertext)?).map_err(|_| CryptoError::Format)
    }

    /// The keyed blind index of an already normalised value of one kind (`phone`, `email`, ...). Kinds are
    /// mixed in so that equal strings of different kinds do not share an index.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> Vec<u8> {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(self.blind_key.as_ref()).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The MAC that seals one audit event.
    pub fn audit_mac(&self, bytes: &[u8]) -> Vec<u8> {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(self.audit_key.as_ref()).expect("any key length");
        mac.update(bytes);
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_round_trips_and_names_its_key() {
        let k = Keyring::generate();
        let ct = k.encrypt_str("users.full_name:1", "Esperanza Quintanilla");
        assert_eq!(Keyring::key_id_of(&ct).unwrap(), 1);
        assert_eq!(
            k.decrypt_string("users.full_name:1", &ct).unwrap(),
            "Esperanza Quintanilla"
        );
        assert!(!ct.windows(9).any(|w| w == b"Esperanza"));
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_does_not_decrypt() {
        let k = Keyring::generate();
        let ct = k.encrypt_str("users.full_name:1", "x");
        assert!(matches!(
            k.decrypt("users.full_name:2", &ct),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn a_flipped_bit_is_detected() {
        let k = Keyring::generate();
        let mut ct = k.encrypt_str("b", "secret");
        let last = ct.len() - 1;
        ct[last] ^= 1;
        assert!(k.decrypt("b", &ct).is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_encrypts_new_ones_with_the_new_key() {
        let mut k = Keyring::generate();
        let old = k.encrypt_str("b", "v");
        assert_eq!(k.rotate(), 2);
        let new = k.encrypt_str("b", "v");
        assert_eq!(Keyring::key_id_of(&new).unwrap(), 2);
        assert_eq!(k.decrypt_string("b", &old).unwrap(), "v");
        k.retire_old_keys();
        assert!(matches!(
            k.decrypt("b", &old),
            Err(CryptoError::UnknownKey(1))
        ));
    }

    #[test]
    fn the_key_file_round_trips_and_bad_files_name_the_problem() {
        let k = Keyring::generate();
        let again = Keyring::from_toml(&k.to_toml()).unwrap();
        assert_eq!(
            again.blind_index("phone", "+15552013344"),
            k.blind_index("phone", "+15552013344")
        );
        let err = Keyring::from_toml(
            "current = 1\nblind_index_key = \"AA==\"\naudit_key=\"AA==\"\n\
             [[data_keys]]\nid = 1\nkey = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("blind_index_key"), "{err}");
        let err = Keyring::from_toml(
            "current = 3\nblind_index_key = \"AA==\"\naudit_key=\"AA==\"\ndata_keys = []",
        )
        .unwrap_err();
        assert!(err.to_string().contains("current"), "{err}");
    }

    #[test]
    fn blind_indexes_separate_kinds_and_keys() {
        let a = Keyring::generate();
        let b = Keyring::generate();
        assert_ne!(a.blind_index("phone", "1"), a.blind_index("email", "1"));
        assert_ne!(a.blind_index("phone", "1"), b.blind_index("phone", "1"));
    }
}
