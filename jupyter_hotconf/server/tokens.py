"""Standalone credentials: the static ``--token`` and scoped JSON Web Tokens
(docs/operations.md, "Tokens").

A JWT is accepted when ``--jwt-secret`` (HS256) or ``--jwt-public-key`` (RS256 for an RSA
key, ES256 for an EC key) is set. Each key kind has its own explicit algorithm list, never
``none``, so an HS256 token "signed" with the public key as its secret is refused as an
algorithm this server does not take (the classic HS/RS confusion). ``sub`` and ``exp`` are
required; ``aud`` and ``iss`` are checked when configured. Scopes are globs in the claim
``"hotconf": {"read": [...], "write": [...]}``; a token without it may do nothing but
``info``, ``health`` and ``metrics``. The static token keeps full access. Every failure is
a ``TokenRefused`` with a reason for a 401, never an exception that becomes a 500.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ..core.errors import HotconfError
from ..core.tenants import tenant_allowed

#: Larger presented credentials are refused unread (a real token is well under 2 KiB).
MAX_TOKEN_BYTES = 16 * 1024
HMAC_ALGORITHMS = ("HS256",)
RSA_ALGORITHMS = ("RS256",)
EC_ALGORITHMS = ("ES256",)
SCOPE_CLAIM = "hotconf"


class TokenRefused(HotconfError):
    """A credential that is missing, wrong, expired or malformed; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Grant:
    """What one request's credential may do: read and write tenants matching its globs.

    ``subject`` is who (a JWT's ``sub``, ``"token"`` for the static token, None without
    auth); ``expires`` the JWT's ``exp`` (seconds since the epoch), None for no expiry.
    """

    subject: str | None
    read: tuple[str, ...] = ("*",)
    write: tuple[str, ...] = ("*",)
    expires: float | None = None

    def may_read(self, tenant_id: str) -> bool:
        return tenant_allowed(tenant_id, self.read)

    def may_write(self, tenant_id: str) -> bool:
        return tenant_allowed(tenant_id, self.write)

    @property
    def everything(self) -> bool:
        """Reads every tenant (no filter needed on a ``*`` subscription)."""
        return "*" in self.read


ANONYMOUS = Grant(None)
STATIC = Grant("token")


def _globs(scopes: dict[str, Any], name: str) -> tuple[str, ...]:
    value = scopes.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TokenRefused(f"malformed token: claim {SCOPE_CLAIM}.{name} must be a list of "
                           "tenant globs")
    return tuple(value)


def load_public_key(path: str) -> tuple[Any, tuple[str, ...]]:
    """The PEM public key at ``path`` and the algorithms it verifies; ``ValueError`` says
    why it cannot be used."""
    try:
        key = load_pem_public_key(Path(path).expanduser().read_bytes())
    except (OSError, ValueError) as err:
        raise ValueError(f"--jwt-public-key {path}: {err}") from None
    if isinstance(key, rsa.RSAPublicKey):
        return key, RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, EC_ALGORITHMS
    raise ValueError(f"--jwt-public-key {path}: an RSA or P-256 EC public key is needed, got "
                     f"{type(key).__name__}")


class Credentials:
    """Checks what a request presents against the standalone server's settings."""

    def __init__(self, settings: Any, *, clock: Any = time.time) -> None:
        self.token: str = settings.token
        self.audience: str = settings.jwt_audience
        self.issuer: str = settings.jwt_issuer
        self.clock = clock
        self.key: Any = None
        self.algorithms: tuple[str, ...] = ()
        if settings.jwt_secret and settings.jwt_public_key:
            raise ValueError("--jwt-secret and --jwt-public-key exclude each other: give one")
        if settings.jwt_secret:
            self.key, self.algorithms = settings.jwt_secret, HMAC_ALGORITHMS
        elif settings.jwt_public_key:
            self.key, self.algorithms = load_public_key(settings.jwt_public_key)

    @property
    def required(self) -> bool:
        """Whether requests must present a credential at all."""
        return bool(self.token or self.key is not None)

    def check(self, presented: str) -> Grant:
        """The grant of ``presented`` (``""``: none given); raises ``TokenRefused``."""
        if not self.required:
            return ANONYMOUS
        if not presented:
            raise TokenRefused("missing token (Authorization: Bearer <token>)")
        if len(presented) > MAX_TOKEN_BYTES:
            raise TokenRefused(f"malformed token: longer than {MAX_TOKEN_BYTES} bytes")
        if self.token and hmac.compare_digest(presented.encode(), self.token.encode()):
            return STATIC
        if self.key is None:
            raise TokenRefused("wrong token")
        return self._decode(presented)

    def _decode(self, presented: str) -> Grant:
        try:
            claims = jwt.decode(
                presented, self.key, algorithms=list(self.algorithms),
                audience=self.audience or None, issuer=self.issuer or None,
                options={"require": ["sub", "exp"], "verify_aud": bool(self.audience)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("token expired") from None
        except jwt.InvalidAlgorithmError:
            raise TokenRefused("token algorithm not accepted (this server takes "
                               f"{', '.join(self.algorithms)})") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("bad token signature") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused(f"wrong token audience (want {self.audience!r})") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused(f"wrong token issuer (want {self.issuer!r})") from None
        except jwt.MissingRequiredClaimError as err:
            raise TokenRefused(f"malformed token: no {err.claim!r} claim") from None
        except (jwt.PyJWTError, ValueError, TypeError) as err:
            # DecodeError, ImmatureSignatureError …; ValueError/TypeError from a key library
            # handed garbage: a bad token, never a server error.
            raise TokenRefused(f"malformed token: {err}"[:200]) from None
        return self._grant(claims)

    @staticmethod
    def _grant(claims: dict[str, Any]) -> Grant:
        subject, exp = claims.get("sub"), claims.get("exp")
        if not isinstance(subject, str) or not subject:
            raise TokenRefused("malformed token: sub must be a non-empty string")
        scopes = claims.get(SCOPE_CLAIM, {})
        if not isinstance(scopes, dict):
            raise TokenRefused(f"malformed token: claim {SCOPE_CLAIM} must be an object "
                               '{"read": [globs], "write": [globs]}')
        if not isinstance(exp, (int, float)):  # PyJWT has checked it is a number
            raise TokenRefused("malformed token: exp must be a number")
        return Grant(subject, _globs(scopes, "read"), _globs(scopes, "write"), float(exp))
