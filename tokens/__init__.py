"""The portal's access tokens (ES256 JWTs) and their JWKS: infrastructure every machine API uses.

Importers use the package itself (``import tokens``; ``tokens.issue(...)``, ``tokens.verify(...)``,
settings as ``tokens.conf.AUDIENCE``); the code is in ``tokens.access``, the settings in ``tokens/conf.py``.
"""

from .access import ALGORITHM, InvalidToken, IssuedToken, KeyRing, SigningKey, issue, jwks, key_ring, sign, verify
from .conf import conf

__all__ = [
    "conf",
    "ALGORITHM",
    "InvalidToken",
    "IssuedToken",
    "KeyRing",
    "SigningKey",
    "issue",
    "jwks",
    "key_ring",
    "sign",
    "verify",
]
