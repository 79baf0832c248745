//! Reading and writing key files. Private keys never enter the format crate as files: this module
//! turns them into [`ouk_format::keys::Signer`]s.
//!
//! Accepted private keys:
//! - PKCS#8 PEM `PRIVATE KEY` (ed25519 or P-256), as `ouk-builder keygen` writes;
//! - PKCS#8 PEM `ENCRYPTED PRIVATE KEY` (PBES2), password from `OUK_KEY_PASSWORD`;
//! - cosign/sigstore key files `ENCRYPTED COSIGN PRIVATE KEY` / `ENCRYPTED SIGSTORE PRIVATE KEY`
//!   (scrypt + secretbox, decrypted by the `sigstore` crate), password from `COSIGN_PASSWORD`.

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

/// Decrypt a cosign key with the `sigstore` crate and re-wrap the PKCS#8 DER it yields.
fn load_cosign(path: &Path, pem: &[u8], password: &[u8]) -> Result<Box<dyn Signer>, BuildError> {
    use sigstore::crypto::signing_key::SigStoreKeyPair;
    let pair = SigStoreKeyPair::from_encrypted_pem(pem, password)
        .map_err(|e| key_err(path, format!("cosign key: {e}")))?;
    let der = pair
        .private_key_to_der()
        .map_err(|e| key_err(path, format!("cosign key: {e}")))?;
    match pair {
        SigStoreKeyPair::ED25519(_) => ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map(|k| Box::new(Ed25519Signer::new(k)) as Box<dyn Signer>)
            .map_err(|_| key_err(path, "cosign ed25519 key does not decode")),
        SigStoreKeyPair::ECDSA(_) => p256::ecdsa::SigningKey::from_pkcs8_der(&der)
            .map(|k| Box::new(EcdsaP256Signer::new(k)) as Box<dyn Signer>)
            .map_err(|_| key_err(path, "only P-256 ECDSA cosign keys are supported")),
        _ => Err(key_err(path, "RSA cosign keys are not supported")),
    }
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

    #[test]
    fn cosign_encrypted_keys_load_through_sigstore() {
        use sigstore::crypto::signing_key::SigStoreKeyPair;
        let dir = tempfile::tempdir().unwrap();
        for (name, pair) in [
            (
                "ec",
                SigStoreKeyPair::ECDSA(
                    sigstore::crypto::signing_key::ecdsa::ECDSAKeys::new(
                        sigstore::crypto::signing_key::ecdsa::EllipticCurve::P256,
                    )
                    .unwrap(),
                ),
            ),
            (
                "ed",
                SigStoreKeyPair::ED25519(
                    sigstore::crypto::signing_key::ed25519::Ed25519Keys::new().unwrap(),
                ),
            ),
        ] {
            let pem = pair.private_key_to_encrypted_pem(b"secret").unwrap();
            let path = dir.path().join(format!("{name}.key"));
            fs::write(&path, pem.as_bytes()).unwrap();
            let pw = Passwords {
                ouk: None,
                cosign: Some(Zeroizing::new("secret".into())),
            };
            let signer = load_signer(&path, &pw).unwrap();
            let sig = signer.sign(b"msg").unwrap();
            assert!(signer.public_key().verify(b"msg", &sig), "{name}");
            let wrong = Passwords {
                ouk: None,
                cosign: Some(Zeroizing::new("nope".into())),
            };
            assert!(load_signer(&path, &wrong).is_err());
        }
    }
}
