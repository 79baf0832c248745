//! Reading and writing key files. Private keys never enter the format crate as files: this module
//! turns them into [`ouk_format::keys::Signer`]s.
//!
//! Accepted private keys:
//! - PKCS#8 PEM `PRIVATE KEY` (ed25519 or P-256), as `ouk-builder keygen` writes;
//! - PKCS#8 PEM `ENCRYPTED PRIVATE KEY` (PBES2), password from `OUK_KEY_PASSWORD`;
//! - cosign/sigstore key files `ENCRYPTED COSIGN PRIVATE KEY` / `ENCRYPTED SIGSTORE PRIVATE KEY`
//!   (scrypt + secretbox, [`crate::cosign_key`]), password from `COSIGN_PASSWORD`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ouk_format::keys::{EcdsaP256Signer, Ed25519Signer, PublicKey, Signer};
use pkcs8::LineEnding;
use zeroize::Zeroizing;

use crate::error::BuildError;

/// Passwords for encrypted key files, read by the CLI from the environment.
#[derive(Default, Clone)]
pub struct Passwords {
    /// `OUK_KEY_PASSWORD`, for PKCS#8 encrypted keys.
    pub ouk: Option<Zeroizing<String>>,
    /// `COSIGN_PASSWORD`, for cosign key files.
    pub cosign: Option<Zeroizing<String>>,
}

fn key_err(path: &Path, reason: impl Into<String>) -> BuildError {
    BuildError::Key {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Load a private key file as a signer.
pub fn load_signer(path: &Path, passwords: &Passwords) -> Result<Box<dyn Signer>, BuildError> {
    let pem = Zeroizing::new(fs::read_to_string(path).map_err(BuildError::io(path))?);
    let label = pem
        .lines()
        .find_map(|l| {
            l.strip_prefix("-----BEGIN ")
                .and_then(|l| l.strip_suffix("-----"))
        })
        .unwrap_or("")
        .to_owned();
    match label.as_str() {
        "PRIVATE KEY" => {
            if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem) {
                return Ok(Box::new(Ed25519Signer::new(k)));
            }
            p256::ecdsa::SigningKey::from_pkcs8_pem(&pem)
                .map(|k| Box::new(EcdsaP256Signer::new(k)) as Box<dyn Signer>)
                .map_err(|_| key_err(path, "not an ed25519 or P-256 PKCS#8 key"))
        }
        "ENCRYPTED PRIVATE KEY" => {
            let password = passwords
                .ouk
                .as_ref()
                .ok_or_else(|| key_err(path, "encrypted key: set OUK_KEY_PASSWORD"))?;
            if let Ok(k) =
                ed25519_dalek::SigningKey::from_pkcs8_encrypted_pem(&pem, password.as_bytes())
            {
                return Ok(Box::new(Ed25519Signer::new(k)));
            }
            p256::ecdsa::SigningKey::from_pkcs8_encrypted_pem(&pem, password.as_bytes())
                .map(|k| Box::new(EcdsaP256Signer::new(k)) as Box<dyn Signer>)
                .map_err(|_| {
                    key_err(
                        path,
                        "cannot decrypt (wrong OUK_KEY_PASSWORD?) or unsupported key",
                    )
                })
        }
        "ENCRYPTED COSIGN PRIVATE KEY" | "ENCRYPTED SIGSTORE PRIVATE KEY" => {
            let password = passwords
                .cosign
                .as_ref()
                .ok_or_else(|| key_err(path, "cosign key: set COSIGN_PASSWORD"))?;
            load_cosign(path, pem.as_bytes(), password.as_bytes())
        }
        other => Err(key_err(path, format!("unsupported PEM label {other:?}"))),
    }
}

/// Decrypt a cosign key file ([`crate::cosign_key`]) and load the PKCS#8 DER it holds.
fn load_cosign(path: &Path, pem: &[u8], password: &[u8]) -> Result<Box<dyn Signer>, BuildError> {
    let (_label, body) = pkcs8::der::pem::decode_vec(pem)
        .map_err(|e| key_err(path, format!("cosign key: bad PEM: {e}")))?;
    let body = Zeroizing::new(body);
    let der = crate::cosign_key::decrypt(&body, password)
        .map_err(|e| key_err(path, format!("cosign key: {e}")))?;
    if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(&der) {
        return Ok(Box::new(Ed25519Signer::new(k)));
    }
    p256::ecdsa::SigningKey::from_pkcs8_der(&der)
        .map(|k| Box::new(EcdsaP256Signer::new(k)) as Box<dyn Signer>)
        .map_err(|_| {
            key_err(
                path,
                "only ed25519 and P-256 ECDSA cosign keys are supported",
            )
        })
}

/// Load a public key (SPKI PEM), or derive it from a private key file.
pub fn load_public(path: &Path, passwords: &Passwords) -> Result<PublicKey, BuildError> {
    let text = fs::read_to_string(path).map_err(BuildError::io(path))?;
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        return PublicKey::from_spki_pem(&text).map_err(|e| key_err(path, e.to_string()));
    }
    Ok(load_signer(path, passwords)?.public_key())
}

/// Written key pair locations.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyPairFiles {
    /// Private key (mode 0600).
    pub private: PathBuf,
    /// Public key.
    pub public: PathBuf,
    /// TUF/securesystemslib key id.
    pub keyid: String,
}

/// Generate an ed25519 key pair: `<prefix>.key` (PKCS#8 PEM, mode 0600, encrypted when a
/// password is given) and `<prefix>.pub` (SPKI PEM). Refuses to overwrite existing files.
pub fn keygen(prefix: &Path, password: Option<&str>) -> Result<KeyPairFiles, BuildError> {
    let mut rng = rand_core::OsRng;
    let key = ed25519_dalek::SigningKey::generate(&mut rng);
    let private_pem: Zeroizing<String> = match password {
        Some(pw) => key
            .to_pkcs8_encrypted_pem(&mut rng, pw.as_bytes(), LineEnding::LF)
            .map_err(|e| key_err(prefix, format!("encrypting: {e}")))?,
        None => key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| key_err(prefix, format!("encoding: {e}")))?,
    };
    let private = with_ext(prefix, "key");
    let public = with_ext(prefix, "pub");
    write_new(&private, private_pem.as_bytes(), 0o600)?;
    let pk = PublicKey::Ed25519(key.verifying_key());
    write_new(&public, pk.to_spki_pem().as_bytes(), 0o644)?;
    Ok(KeyPairFiles {
        private,
        public,
        keyid: pk.key_id().to_string(),
    })
}

fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Create a file that must not exist yet, with `mode` set at creation (no window where a private
/// key is world-readable).
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), BuildError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(BuildError::io(path))?;
    f.write_all(data).map_err(BuildError::io(path))?;
    f.sync_all().map_err(BuildError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_0600_and_loads_back_plain_and_encrypted() {
        let dir = tempfile::tempdir().unwrap();
        let files = keygen(&dir.path().join("a"), None).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&files.private).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let signer = load_signer(&files.private, &Passwords::default()).unwrap();
        let public = load_public(&files.public, &Passwords::default()).unwrap();
        assert_eq!(signer.public_key(), public);
        assert_eq!(public.key_id().to_string(), files.keyid);
        assert!(
            keygen(&dir.path().join("a"), None).is_err(),
            "must not overwrite"
        );

        let enc = keygen(&dir.path().join("b"), Some("pw")).unwrap();
        assert!(fs::read_to_string(&enc.private)
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY"));
        assert!(load_signer(&enc.private, &Passwords::default()).is_err());
        let pw = Passwords {
            ouk: Some(Zeroizing::new("pw".into())),
            cosign: None,
        };
        assert_eq!(
            load_signer(&enc.private, &pw).unwrap().public_key(),
            load_public(&enc.public, &pw).unwrap()
        );
    }

    /// Key files written by cosign's format (generated once with the `sigstore` crate, the Rust
    /// port of cosign's key code, before it was dropped; `testdata/cosign/README.md`) and, in CI,
    /// by an independent Python writer (`ci/cosign_keys.py`).
    #[test]
    fn cosign_key_fixtures_load_with_their_password_only() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cosign");
        let pw = |p: &str| Passwords {
            ouk: None,
            cosign: Some(Zeroizing::new(p.into())),
        };
        for name in ["ecdsa-p256", "ed25519"] {
            let key = dir.join(format!("{name}.key"));
            let signer = load_signer(&key, &pw("ouk-test-only")).unwrap();
            let public =
                load_public(&dir.join(format!("{name}.pub")), &Passwords::default()).unwrap();
            assert_eq!(signer.public_key(), public, "{name}");
            let sig = signer.sign(b"msg").unwrap();
            assert!(public.verify(b"msg", &sig), "{name}");
            let err = load_signer(&key, &pw("wrong")).err().unwrap().to_string();
            assert!(err.contains("wrong COSIGN_PASSWORD"), "{err}");
            assert!(load_signer(&key, &Passwords::default()).is_err());
        }
    }
}
