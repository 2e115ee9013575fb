"""Ed25519 keys of an assessing body, and the signature of a trace record.

``qmgrade keys new --out PREFIX`` writes ``PREFIX.key`` (the private key,
PKCS#8 PEM, mode 0600) and ``PREFIX.pub`` (the public key,
SubjectPublicKeyInfo PEM).  A signed record carries

``"signature": {"algorithm": "Ed25519", "public_key": <base64 of the 32-byte
key>, "value": <base64 of the 64-byte signature>}``

over exactly the bytes its digest is taken over (the RFC 8785 canonical JSON
of the record without ``digest`` and ``signature``; docs/trace-digest.md), so
any Ed25519 library can check it.  The key in the record only says which key
signed; only the public key an auditor was given proves who did.
"""
from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Optional, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import InputError, Problem

__all__ = ["ALGORITHM", "new_key_pair", "load_private_key", "load_public_key", "key_id", "signature_block",
           "check_signature"]

ALGORITHM = "Ed25519"
_MAX_KEY_FILE = 64 * 1024


def new_key_pair(prefix: str) -> Tuple[str, str]:
    """Write PREFIX.key (0600) and PREFIX.pub; returns their paths.

    Raises
    ------
    InputError when either file exists already (keys are never overwritten) or cannot be written.
    """
    private_path, public_path = f"{prefix}.key", f"{prefix}.pub"
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise InputError(Problem(path, 1, 1, "exists already: a key is never overwritten (choose another "
                                                 "--out PREFIX)"))
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    written = []
    try:
        for path, data, mode in ((private_path, private_pem, 0o600), (public_path, public_pem, 0o644)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            written.append(path)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            os.chmod(path, mode)      # the umask must not widen or narrow it
    except OSError as exc:
        for path in written:
            Path(path).unlink(missing_ok=True)
        where = exc.filename or prefix
        raise InputError(Problem(str(where), 1, 1, f"cannot write the key: {exc.strerror or exc}")) from None
    return private_path, public_path


def _read_pem(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            data = stream.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InputError(Problem(path, 1, 1, f"cannot read the key: {exc.strerror or exc}")) from None
    if len(data) > _MAX_KEY_FILE:
        raise InputError(Problem(path, 1, 1, "not a PEM key file (too large)"))
    return data


def load_private_key(path: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``.

    Raises
    ------
    InputError when the file cannot be read or holds no unencrypted Ed25519 private key.
    """
    data = _read_pem(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except Exception:   # cryptography raises several kinds (ValueError, TypeError, UnsupportedAlgorithm)
        raise InputError(Problem(path, 1, 1, "not an Ed25519 private key in PEM (write one with "
                                             "`qmgrade keys new --out PREFIX`)")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(Problem(path, 1, 1, f"not an Ed25519 private key ({type(key).__name__})"))
    return key


def load_public_key(path: str) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file ``path``.

    Raises
    ------
    InputError when the file cannot be read or holds no Ed25519 public key.
    """
    data = _read_pem(path)
    try:
        key = serialization.load_pem_public_key(data)
    except Exception:   # as above
        hint = " (this is a private key: pass the .pub file)" if b"PRIVATE KEY" in data else ""
        raise InputError(Problem(path, 1, 1, f"not an Ed25519 public key in PEM{hint}")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(Problem(path, 1, 1, f"not an Ed25519 public key ({type(key).__name__})"))
    return key


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: ``SHA256:`` and the first 16 hex digits of the hash of its raw bytes."""
    return "SHA256:" + hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def signature_block(private_key: Ed25519PrivateKey, signed: bytes) -> dict:
    """The ``signature`` of a record whose signed bytes are ``signed``."""
    return {"algorithm": ALGORITHM,
            "public_key": base64.b64encode(_raw(private_key.public_key())).decode("ascii"),
            "value": base64.b64encode(private_key.sign(signed)).decode("ascii")}


def check_signature(block: dict, signed: bytes, public_key: Ed25519PublicKey, key_name: str) -> Optional[str]:
    """Why ``block`` is not a valid signature of ``signed`` by ``public_key``, or None when it is."""
    if block.get("algorithm") != ALGORITHM:
        return f"the signature's algorithm is {block.get('algorithm')!r}, not {ALGORITHM!r}"
    try:
        claimed = base64.b64decode(block.get("public_key", ""), validate=True)
        value = base64.b64decode(block.get("value", ""), validate=True)
    except (ValueError, TypeError):
        return "the signature is not valid base64"
    if claimed != _raw(public_key):
        try:
            other = key_id(Ed25519PublicKey.from_public_bytes(claimed))
        except ValueError:
            other = "an unreadable key"
        return (f"the record was signed with another key ({other}), not with {key_name} "
                f"({key_id(public_key)})")
    try:
        public_key.verify(value, signed)
    except InvalidSignature:
        return (f"the signature does not match the record's content: the record was changed after it was "
                f"signed (key {key_id(public_key)})")
    return None
