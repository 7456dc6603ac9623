"""Options of foreign-data wrappers, servers, user mappings and foreign tables, and the secret rule.

Such options often carry credentials (postgres_fdw's user mapping ``password``, an API wrapper's
``api_key``). fraisec's rule is that no secret reaches its output, a log or a file, so a secret's
value never even enters a :class:`~fraisec.catalog.model.Catalog`: introspection keeps a digest
keyed with a random key of this process instead. Two sides read by the same process compare
equal exactly when their values are equal, and the digest means nothing anywhere else.

An option is a **secret** when its name (case-insensitively) contains ``password``, ``passwd``,
``passcode``, ``passphrase``, ``secret``, ``token`` or ``credential``, or ends in ``key`` after
``api``, ``access``, ``private``, ``secret`` or ``auth`` (``api_key``, ``apikey``,
``access_key``). ``passfile``, ``sslkey``, ``sslcert`` are file paths, not secrets.
"""

from __future__ import annotations

import hashlib
import re
import secrets as _random
from typing import Iterable

from fraisec.catalog.model import Options

__all__ = ["SECRET_PREFIX", "is_secret", "is_secret_value", "options"]

_SECRET_NAME = re.compile(
    r"(?i)(password|passwd|passcode|passphrase|secret|token|credential|"
    r"(api|access|private|auth)_?key)")
SECRET_PREFIX = "\x00secret:"
_KEY = _random.token_bytes(32)  # per process: a digest is comparable here and nowhere else


def is_secret(name: str) -> bool:
    """True for an option whose value fraisec never shows nor writes."""
    return bool(_SECRET_NAME.search(name))


def is_secret_value(value: str) -> bool:
    return value.startswith(SECRET_PREFIX)


def _digest(value: str) -> str:
    return SECRET_PREFIX + hashlib.blake2b(value.encode(), key=_KEY, digest_size=16).hexdigest()


def options(pairs: Iterable[Iterable[str]] | None) -> Options:
    """(name, value) pairs as the catalog keeps them: sorted by name, secrets as digests."""
    out = []
    for name, value in pairs or ():
        out.append((name, _digest(value) if is_secret(name) else value))
    return tuple(sorted(out))
