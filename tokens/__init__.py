"""The portal's access tokens (ES256 JWTs) and their JWKS: infrastructure every machine API uses.

Importers use the package itself (``import tokens``; ``tokens.issue(...)``, ``tokens.verify(...)``);
the code is in ``tokens.access``.
"""

from .access import ALGORITHM, InvalidToken, IssuedToken, KeyRing, SigningKey, issue, jwks, key_ring, sign, verify

__all__ = ["ALGORITHM", "InvalidToken", "IssuedToken", "KeyRing", "SigningKey", "issue", "jwks", "key_ring", "sign", "verify"]
