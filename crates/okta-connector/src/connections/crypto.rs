//! The master key and the sealing of secrets: XChaCha20-Poly1305, a random 24-byte nonce per secret
//! (random nonces are safe at this size, so no counter has to be kept), and associated data that binds
//! a ciphertext to its row (a secret copied onto another connection does not decrypt).
//!
//! The key comes from OKTA_CONNECTOR_MASTER_KEY (32 bytes, hex or base64) or else from
//! `<state dir>/master.key`, created with 0600 permissions on first use. A wrong key is detected by the
//! AEAD tag and reported as such: it never yields garbage.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

pub const MASTER_KEY_VAR: &str = "OKTA_CONNECTOR_MASTER_KEY";
pub const KEY_FILE: &str = "master.key";
pub const NONCE_LEN: usize = 24;

const HOW_TO_GENERATE: &str =
    "generate one with `openssl rand -hex 32` (or `head -c 32 /dev/urandom | base64`)";

/// Where the key comes from: shown in errors so the user knows which key to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    Environment,
    File(PathBuf),
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Environment => write!(f, "{MASTER_KEY_VAR}"),
            KeyOrigin::File(path) => write!(f, "the key file {}", path.display()),
        }
    }
}

/// The 32-byte key. `Debug` shows where it came from, never the key.
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
    pub origin: KeyOrigin,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(<redacted>, from {})", self.origin)
    }
}

/// A sealed secret: what the store keeps.
pub struct Sealed {
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
}

/// The AEAD tag did not verify: another key sealed this (or the bytes were altered).
#[derive(Debug)]
pub struct WrongKey;

impl MasterKey {
    pub fn from_bytes(key: [u8; 32], origin: KeyOrigin) -> Self {
        MasterKey {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
            origin,
        }
    }

    /// The key from `env_value` (OKTA_CONNECTOR_MASTER_KEY) if set, else from the key file in
    /// `state_dir`, which is created (with the directory) when `create` is true and it does not exist.
    pub fn load(state_dir: &Path, env_value: Option<&str>, create: bool) -> anyhow::Result<Self> {
        if let Some(text) = env_value {
            let key =
                parse_key(text).with_context(|| format!("{MASTER_KEY_VAR} is not a usable key"))?;
            return Ok(MasterKey::from_bytes(key, KeyOrigin::Environment));
        }
        let path = state_dir.join(KEY_FILE);
        let origin = KeyOrigin::File(path.clone());
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = parse_key(&text).with_context(|| {
                    format!("the key file {} is not a usable key", path.display())
                })?;
                Ok(MasterKey::from_bytes(key, origin))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = create_key_file(state_dir, &path)?;
                Ok(MasterKey::from_bytes(key, origin))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "the master key is missing: the store's secrets were encrypted with a key that is neither \
                 in {MASTER_KEY_VAR} nor in {}; set {MASTER_KEY_VAR} to that key or restore the file",
                path.display()
            ),
            Err(e) => {
                Err(e).with_context(|| format!("cannot read the key file {}", path.display()))
            }
        }
    }

    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> anyhow::Result<Sealed> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            // Encryption fails only for messages of gigabytes; a secret is never one.
            .map_err(|_| anyhow::anyhow!("cannot encrypt the secret"))?;
        Ok(Sealed { nonce, ciphertext })
    }

    pub fn open(&self, sealed: &Sealed, associated_data: &[u8]) -> Result<Vec<u8>, WrongKey> {
        self.cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| WrongKey)
    }
}

/// 32 bytes as 64 hex digits or as base64 (standard or URL-safe, padded or not). Surrounding
/// whitespace (a key file's newline) is ignored.
pub fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        decode_hex(text)
    } else {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .unwrap_or_default()
    };
    // The length only: the text itself is the secret and is never repeated.
    bytes.try_into().map_err(|_| {
        anyhow::anyhow!(
            "a master key is 32 random bytes written as 64 hex digits or as base64 ({} characters given \
             do not decode to 32 bytes): {HOW_TO_GENERATE}",
            text.len()
        )
    })
}

fn decode_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            digit(pair[0]) << 4 | digit(pair[1])
        })
        .collect()
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(bytes)
}

/// Creates the state directory (0700) and a new key file (0600). `create_new` makes a concurrent
/// first use safe: whoever loses the race reads the winner's key.
fn create_key_file(state_dir: &Path, path: &Path) -> anyhow::Result<[u8; 32]> {
    create_private_dir(state_dir)?;
    let key: [u8; 32] = random()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            return parse_key(&text);
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot create the key file {}", path.display()));
        }
    };
    writeln!(file, "{}", encode_hex(&key))
        .and_then(|_| file.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
    Ok(key)
}

/// The state directory, readable by its owner only (it holds the store and perhaps the key).
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create the state directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn keys_parse_from_hex_and_base64() {
        let want: Vec<u8> = (0u8..32).collect();
        assert_eq!(parse_key(HEX).unwrap().to_vec(), want);
        assert_eq!(
            parse_key(&format!("  {}\n", HEX.to_uppercase()))
                .unwrap()
                .to_vec(),
            want
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(&want);
        assert_eq!(parse_key(&b64).unwrap().to_vec(), want);
        assert_eq!(parse_key(b64.trim_end_matches('=')).unwrap().to_vec(), want);
    }

    #[test]
    fn bad_keys_say_how_to_generate_one_without_echoing() {
        for bad in [
            "",
            "short",
            &HEX[..62],
            "correct horse battery staple!!",
            &"ab".repeat(33),
        ] {
            let e = parse_key(bad).unwrap_err().to_string();
            assert!(e.contains("openssl rand -hex 32"), "{e}");
            if !bad.is_empty() {
                assert!(!e.contains(bad), "the key text is not repeated: {e}");
            }
        }
    }

    #[test]
    fn seal_and_open_round_trip_and_bind_the_associated_data() {
        let key = MasterKey::from_bytes(parse_key(HEX).unwrap(), KeyOrigin::Environment);
        let sealed = key.seal(b"00secret", b"prod").unwrap();
        assert!(!sealed.ciphertext.windows(8).any(|w| w == b"00secret"));
        assert_eq!(key.open(&sealed, b"prod").unwrap(), b"00secret");
        assert!(
            key.open(&sealed, b"other").is_err(),
            "bound to its connection"
        );
        let again = key.seal(b"00secret", b"prod").unwrap();
        assert_ne!(again.nonce, sealed.nonce, "a fresh nonce per secret");

        let other = MasterKey::from_bytes([7; 32], KeyOrigin::Environment);
        assert!(
            other.open(&sealed, b"prod").is_err(),
            "a wrong key fails, never garbage"
        );
        assert!(!format!("{key:?}").contains("0001"));
    }

    #[test]
    fn the_key_file_is_created_private_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/b");
        let missing = MasterKey::load(&state, None, false)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("master key is missing"), "{missing}");
        let first = MasterKey::load(&state, None, true).unwrap();
        let sealed = first.seal(b"x", b"n").unwrap();
        let second = MasterKey::load(&state, None, false).unwrap();
        assert_eq!(second.open(&sealed, b"n").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&state.join(KEY_FILE)), 0o600);
            assert_eq!(mode(&state), 0o700);
        }
        // The variable wins over the file.
        let from_env = MasterKey::load(&state, Some(HEX), false).unwrap();
        assert_eq!(from_env.origin, KeyOrigin::Environment);
        assert!(from_env.open(&sealed, b"n").is_err());
    }
}
