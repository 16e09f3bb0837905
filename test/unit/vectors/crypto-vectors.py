"""Writes crypto.json: known answers computed with Python's `cryptography` package, independently of
src/, so the vectors pin the stored format rather than echo the code under test.

    python3 test/unit/vectors/crypto-vectors.py > test/unit/vectors/crypto.json
"""
import base64, hashlib, hmac, json
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEP = "\u0000"
fingerprint_key = bytes(range(32))
master_keys = {1: bytes([0x11]) * 32, 2: bytes([0x22]) * 32}
dek = bytes(range(0xA0, 0xC0))
signing_seed = bytes(range(0x40, 0x60))


def hkdf(info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(fingerprint_key)


def js_json(value):
    # JSON.stringify of an array of strings and integers, no spaces, non-ASCII kept as is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def seal(key, iv, plaintext, aad):
    return (b"\x01" + iv + AESGCM(key).encrypt(iv, plaintext, aad)).hex()


value_key = hkdf("tokenvault fingerprint v1")
subject_key = hkdf("tokenvault subject v1")
unknown_key = hkdf("tokenvault unknown token v1")

fingerprints = [
    ["default", "email", "alice@example.com"],
    ["default", "text", "Caf\u00e9 \u2603"],
    ["analytics", "card", "4111111111111111"],
    ["default", "ssn", "123456789"],
]
subjects = ["user-42", "\u00e9l\u00e8ve@example.com"]
unknown = ["not-a-token", "4111111111111111"]

dek_id = "dek-0001"
dek_iv = bytes(range(0x0C, 0x18))
value_iv = bytes(range(0x60, 0x6C))
value = ["default", "email", "q7zk0@example.com"]
plaintext = "alice@example.com"

seed_priv = Ed25519PrivateKey.from_private_bytes(signing_seed)
public_x = base64.urlsafe_b64encode(seed_priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).rstrip(b"=").decode()
signed = '{"erasureId":"e-1","tokens":["t1","t2"]}'

out = {
    "about": "Known answers computed independently of src/ (test/unit/vectors/crypto-vectors.py). They pin the stored format: a change that breaks one must be a deliberate, versioned migration.",
    "fingerprintKeyHex": fingerprint_key.hex(),
    "masterKeysHex": {str(v): k.hex() for v, k in master_keys.items()},
    "fingerprints": [{"namespace": n, "type": t, "normalized": v, "hex": hmac.new(value_key, (n + SEP + t + SEP + v).encode(), hashlib.sha256).hexdigest()} for n, t, v in fingerprints],
    "subjectHmacs": [{"subject": s, "hex": hmac.new(subject_key, s.encode(), hashlib.sha256).hexdigest()} for s in subjects],
    "unknownTokenHmacs": [{"input": s, "hex": hmac.new(unknown_key, s.encode(), hashlib.sha256).hexdigest()} for s in unknown],
    "wrappedDek": {
        "dekId": dek_id,
        "kekVersion": 1,
        "dekHex": dek.hex(),
        "ivHex": dek_iv.hex(),
        "wrappedHex": seal(master_keys[1], dek_iv, dek, ("tokenvault:dek:v1" + SEP + js_json([dek_id, 1])).encode()),
    },
    "valueCiphertext": {
        "namespace": value[0],
        "type": value[1],
        "token": value[2],
        "plaintext": plaintext,
        "ivHex": value_iv.hex(),
        "aadHex": ("tokenvault:value:v1" + SEP + js_json(value)).encode().hex(),
        "sealedHex": seal(dek, value_iv, plaintext.encode(), ("tokenvault:value:v1" + SEP + js_json(value)).encode()),
    },
    "signing": {
        "seedHex": signing_seed.hex(),
        "publicX": public_x,
        "data": signed,
        "signature": base64.urlsafe_b64encode(seed_priv.sign(signed.encode())).rstrip(b"=").decode(),
    },
}
print(json.dumps(out, indent=2, ensure_ascii=False))
