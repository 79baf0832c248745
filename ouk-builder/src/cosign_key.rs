//! cosign's encrypted private key files (`ENCRYPTED SIGSTORE PRIVATE KEY`, formerly
//! `ENCRYPTED COSIGN PRIVATE KEY`), decrypted with the RustCrypto crates.
//!
//! The PEM body is base64 JSON: `{"kdf": {"name": "scrypt", "params": {"N", "r", "p"}, "salt"},
//! "cipher": {"name": "nacl/secretbox", "nonce"}, "ciphertext"}` (go-securesystemslib's
//! `encrypted` package, which cosign uses); the plaintext is the PKCS#8 DER of the private key.
//! Hand-written because the one crate that reads these files, `sigstore`, brings an async HTTP
//! stack (tokio, reqwest, rustls) into the builder for this single function; the cryptography
//! is `scrypt` and `crypto_secretbox` (XSalsa20-Poly1305 = NaCl secretbox).

use base64::Engine as _;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use serde::Deserialize;
use zeroize::Zeroizing;

#[derive(Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Largest scrypt cost accepted (`N` = 2^20 with r = 8 is 1 GiB of memory; cosign writes
/// 2^15): a key file must not be able to make the builder allocate without bound.
const MAX_LOG_N: u8 = 20;

/// Decrypt the base64 body of a cosign key PEM with `password`; returns the PKCS#8 DER.
pub fn decrypt(body: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let json = Zeroizing::new(body.to_vec());
    let key: EncryptedKey =
        serde_json::from_slice(&json).map_err(|e| format!("not a cosign key: {e}"))?;
    if key.kdf.name != "scrypt" {
        return Err(format!("unsupported key derivation {:?}", key.kdf.name));
    }
    if key.cipher.name != "nacl/secretbox" {
        return Err(format!("unsupported cipher {:?}", key.cipher.name));
    }
    let KdfParams { n, r, p } = key.kdf.params;
    if !n.is_power_of_two() || n < 2 || n.trailing_zeros() > u32::from(MAX_LOG_N) {
        return Err(format!(
            "scrypt N={n} is not a power of two up to 2^{MAX_LOG_N}"
        ));
    }
    if !(1..=32).contains(&r) || !(1..=16).contains(&p) {
        return Err(format!("scrypt r={r} p={p} out of range"));
    }
    let salt = b64
        .decode(&key.kdf.salt)
        .map_err(|_| "salt is not base64")?;
    let nonce = b64
        .decode(&key.cipher.nonce)
        .map_err(|_| "nonce is not base64")?;
    let ciphertext = b64
        .decode(&key.ciphertext)
        .map_err(|_| "ciphertext is not base64")?;
    if nonce.len() != 24 {
        return Err("secretbox nonce must be 24 bytes".into());
    }
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, 32)
        .map_err(|e| format!("scrypt parameters: {e}"))?;
    let mut secret = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, &salt, &params, secret.as_mut())
        .map_err(|e| format!("scrypt: {e}"))?;
    let cipher = XSalsa20Poly1305::new(secret.as_ref().into());
    cipher
        .decrypt(nonce.as_slice().into(), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| "cannot decrypt (wrong COSIGN_PASSWORD?)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_parameters_are_refused_before_any_work() {
        let body = |n: u64, r: u32| {
            format!(
                r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":{r},"p":1}},"salt":"AA=="}},"cipher":{{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},"ciphertext":"AA=="}}"#
            )
        };
        assert!(decrypt(body(1 << 30, 8).as_bytes(), b"x")
            .unwrap_err()
            .contains("N="));
        assert!(decrypt(body(1000, 8).as_bytes(), b"x")
            .unwrap_err()
            .contains("N="));
        assert!(decrypt(body(1024, 1000).as_bytes(), b"x")
            .unwrap_err()
            .contains("r="));
        // Well-formed but wrong: the MAC fails.
        assert!(decrypt(body(1024, 8).as_bytes(), b"x")
            .unwrap_err()
            .contains("decrypt"));
    }
}
