#!/usr/bin/env python3
"""Write cosign-format encrypted private keys with an implementation that is not ours.

Usage: cosign_keys.py OUT_DIR PASSWORD

Writes OUT_DIR/{ecdsa-p256,ed25519}.{key,pub}: PEM "ENCRYPTED SIGSTORE PRIVATE KEY" whose body is
base64 JSON {"kdf": scrypt N=32768 r=8 p=1, "cipher": nacl/secretbox, "ciphertext"} around the
PKCS#8 DER of the key, as cosign (go-securesystemslib's `encrypted` package) writes them; the
public halves as SPKI PEM. Built from Python's hashlib.scrypt, PyNaCl's SecretBox and
`cryptography`, so the builder's reader (ouk-builder/src/cosign_key.rs) is checked against a
second, independent writer (the committed fixtures come from the Rust `sigstore` crate).
"""
import base64
import hashlib
import json
import os
import sys

import nacl.secret
import nacl.utils
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def b64(b):
    return base64.b64encode(b).decode()


def encrypt(der, password):
    salt = os.urandom(32)
    n, r, p = 32768, 8, 1
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 << 20)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ct = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    body = json.dumps({
        "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p}, "salt": b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce)},
        "ciphertext": b64(ct),
    }).encode()
    text = base64.b64encode(body).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return ("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(lines)
            + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")


def main():
    out, password = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, key in (("ecdsa-p256", ec.generate_private_key(ec.SECP256R1())),
                      ("ed25519", ed25519.Ed25519PrivateKey.generate())):
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        with open(os.path.join(out, name + ".key"), "w") as f:
            f.write(encrypt(der, password))
        with open(os.path.join(out, name + ".pub"), "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        print(f"wrote {name}.key / {name}.pub")


if __name__ == "__main__":
    main()
