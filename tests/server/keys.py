"""Keys, JSON Web Tokens and a self-signed TLS certificate made in the test, with
``cryptography`` and PyJWT, for the token and TLS tests (nothing is read from disk)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SECRET = "a-test-secret-that-is-long-enough-for-hs256!"


def public_pem(private: Any) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def claims(sub: str = "alice", exp_in: float = 300, read: tuple[str, ...] = ("*",),
           write: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sub": sub, "exp": int(time.time() + exp_in),
                            "hotconf": {"read": list(read), "write": list(write)}}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def mint(key: Any = SECRET, algorithm: str = "HS256", **kw: Any) -> str:
    """A token signed with ``key``; keywords go to ``claims`` (``sub=None`` drops it)."""
    return jwt.encode(claims(**kw), key, algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], body: dict[str, Any], hmac_key: bytes | None) -> str:
    """A token built by hand, as an attacker would: PyJWT refuses to make these (``alg:
    none``, or an HS256 MAC keyed with an RSA public key)."""
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    mac = b"" if hmac_key is None else hmac.new(hmac_key, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(mac)}"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and ``127.0.0.1`` and its key (PEM files), which is
    also the CA bundle a client trusts."""
    key = ec_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hotconf test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return certfile, keyfile
