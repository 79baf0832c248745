#!/usr/bin/env python3
"""Outside verifier: checks an OUK kit's DSSE envelopes with securesystemslib, not with our code.

Proves that our PAE, base64 and key ids are the standard ones:
  1. the trust root verifies with its own root-role keys (threshold from the document): a TUF
     root.json (ouk/trust-root/2, signatures over canonical JSON of `signed`, kit and
     attestation roles in the `x-ouk` extension) or a legacy DSSE envelope (ouk/trust-root/1);
  2. every key id in the trust root equals securesystemslib's canonical-JSON sha256 of the key;
  3. the kit's manifest envelope (first tar member) verifies with the kit-role keys;
  4. the provenance envelope (attestation member, zstd-decompressed) verifies with the
     attestation-role keys, and its statement subjects equal the manifest's members.
Exit status 0 only if all hold. Usage: verify_kit_sslib.py TRUST_ROOT KIT
"""
import base64
import hashlib
import json
import sys
import tarfile

import zstandard
from securesystemslib.dsse import Envelope
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import Signature, SSlibKey


def keys_for(root, role):
    out = []
    for keyid in root["roles"][role]["keyids"]:
        key = root["keys"][keyid]
        out.append(SSlibKey(keyid, key["keytype"], key["scheme"], key["keyval"]))
    return out, root["roles"][role]["threshold"]


def verify(envelope_bytes, keys, threshold, payload_type, what):
    env = Envelope.from_dict(json.loads(envelope_bytes))
    if env.payload_type != payload_type:
        sys.exit(f"{what}: payloadType {env.payload_type!r} != {payload_type!r}")
    accepted = env.verify(keys, threshold)  # raises VerificationError below threshold
    print(f"{what}: securesystemslib accepted {len(accepted)} of threshold {threshold}")
    return env.pae(), env.payload


def load_trust_root(trust_bytes):
    doc = json.loads(trust_bytes)
    if "signed" not in doc:
        root = json.loads(base64.b64decode(doc["payload"]))
        check_keyids(root)
        keys, threshold = keys_for(root, "root")
        verify(trust_bytes, keys, threshold, "application/vnd.ouk.trust-root.v1+json",
               "trust root (legacy DSSE)")
        return root
    signed = doc["signed"]
    root = {"keys": signed["keys"],
            "roles": {**signed["roles"], **signed["x-ouk"]["roles"]}}
    check_keyids(root)
    message = encode_canonical(signed).encode()
    sigs = {s["keyid"]: Signature(s["keyid"], s["sig"]) for s in doc["signatures"]}
    keys, threshold = keys_for(root, "root")
    good = 0
    for key in keys:
        if key.keyid in sigs:
            try:
                key.verify_signature(sigs[key.keyid], message)
                good += 1
            except Exception:
                pass
    if good < threshold:
        sys.exit(f"trust root: {good} of threshold {threshold} root signatures verify")
    print(f"trust root (TUF layout): securesystemslib accepted {good} of threshold {threshold}")
    return root


def check_keyids(root):
    for keyid, key in root["keys"].items():
        computed = hashlib.sha256(encode_canonical(key).encode()).hexdigest()
        if computed != keyid:
            sys.exit(f"key id {keyid} != securesystemslib's {computed}")
    print(f"trust root: {len(root['keys'])} key ids match securesystemslib")


def main():
    trust_path, kit_path = sys.argv[1], sys.argv[2]
    root = load_trust_root(open(trust_path, "rb").read())

    with tarfile.open(kit_path, "r:") as tar:
        members = tar.getmembers()
        if members[0].name != "ouk/manifest.dsse.json":
            sys.exit(f"first member is {members[0].name}")
        manifest_env = tar.extractfile(members[0]).read()
        keys, threshold = keys_for(root, "kit")
        _, payload = verify(manifest_env, keys, threshold,
                            "application/vnd.ouk.manifest.v1+json", "manifest")
        manifest = json.loads(payload)
        att = [m for m in manifest["members"] if m["role"] == "attestation"]
        if len(att) != 1:
            sys.exit("kit has no attestation member")
        entry = tar.getmember("members/" + att[0]["path"] + ".zst")
        compressed = tar.extractfile(entry).read()
        if hashlib.sha256(compressed).hexdigest() != att[0]["compressed"]["sha256"]:
            sys.exit("attestation compressed digest mismatch")
        att_env = zstandard.ZstdDecompressor().decompressobj().decompress(compressed)
        if hashlib.sha256(att_env).hexdigest() != att[0]["uncompressed"]["sha256"]:
            sys.exit("attestation digest mismatch")
        keys, threshold = keys_for(root, "attestation")
        _, statement = verify(att_env, keys, threshold, "application/vnd.in-toto+json",
                              "provenance")
        statement = json.loads(statement)
        subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
        expected = {m["path"]: m["uncompressed"]["sha256"]
                    for m in manifest["members"] if m["role"] != "attestation"}
        if subjects != expected:
            sys.exit(f"provenance subjects differ from manifest members:\n{subjects}\n{expected}")
        print(f"provenance: {len(subjects)} subjects match the manifest; "
              f"predicateType {statement['predicateType']}")


if __name__ == "__main__":
    main()
