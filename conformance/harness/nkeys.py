"""A user NKEY for the auth cases, generated once per run.

On import, unless the environment already has one, a fresh Ed25519 user key
is made and exported as NATS_NKEY_SEED ("SU...") and NATS_NKEY_PUBLIC
("U..."), so that every client program the runner starts inherits it.
Server configs say "{nkey_user}" where the public key goes
(servers.Server and the C harness substitute it).
"""
import base64
import os
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_PREFIX_SEED = 18 << 3
_PREFIX_USER = 20 << 3


def _crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _encode(raw):
    raw += struct.pack("<H", _crc16(raw))
    return base64.b32encode(raw).decode().rstrip("=")


def new_user_key():
    """(seed, public key) of a new user NKEY, in NATS text form."""
    seed = os.urandom(32)
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    seed_text = _encode(bytes([_PREFIX_SEED | (_PREFIX_USER >> 5), (_PREFIX_USER & 31) << 3]) + seed)
    return seed_text, _encode(bytes([_PREFIX_USER]) + pub)


if "NATS_NKEY_SEED" not in os.environ or "NATS_NKEY_PUBLIC" not in os.environ:
    os.environ["NATS_NKEY_SEED"], os.environ["NATS_NKEY_PUBLIC"] = new_user_key()
SEED = os.environ["NATS_NKEY_SEED"]
PUBLIC = os.environ["NATS_NKEY_PUBLIC"]


def sign(nonce):
    """The base64url signature of `nonce` (str) with SEED, as a client sends it."""
    raw = base64.b32decode(SEED + "=" * (-len(SEED) % 8))
    key = Ed25519PrivateKey.from_private_bytes(raw[2:34])
    return base64.urlsafe_b64encode(key.sign(nonce.encode())).decode().rstrip("=")
