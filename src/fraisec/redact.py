"""The one redaction of secrets: every connection string fraisec shows, writes or raises passes here.

A PostgreSQL connection string comes in two forms (libpq, "Connection Strings"):

* a URL, ``postgresql://user:secret@host/db?password=secret&…`` (the password may be
  percent-encoded, the query may carry one too);
* key/value pairs, ``host=h password=secret dbname=d``, where a value may be single-quoted
  (``password='s e\\'cret'``) and spaces around ``=`` are allowed.

:func:`redact` masks the password in both forms wherever they appear in a text. That is not
enough on its own: libpq's own messages quote fragments of a malformed string (``invalid
percent-encoded token: "secret%zz"``, ``missing "=" after "…"``) in no recognisable form. So the
command line also *registers* every password it is given (:func:`register_secrets`, from the
arguments, ``FRAISEC_DATABASE_URL`` and ``PGPASSWORD``) and :func:`redact` masks those literally, in any text.
Registered passwords shorter than :data:`MIN_LITERAL` characters are masked only where they
appear as a password (masking every "pw" in a message would garble it).

Stdlib only: it is on every command's start-up path.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import quote, unquote

__all__ = ["MASK", "MIN_LITERAL", "RedactingStream", "clear_secrets", "connection_problem",
           "is_connection_string", "redact", "redact_registered", "register_environment",
           "register_secrets", "secrets_in"]

MASK = "***"
MIN_LITERAL = 4

# scheme://[user][:password]@ — libpq ends the user info at the first '@' or '/'.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s]*):([^@/\s]*)@")
# ?password=… / &password=… inside a URL's query.
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)([^&#\s\"']*)")
# password=value / password = 'quoted value' in key/value form, at the start or after a space.
_KV_PASSWORD = re.compile(r"""(?i)(?:^|(?<=[\s"'(]))(password\s*=\s*)"""
                          r"""('(?:[^'\\]|\\.)*'?|[^\s\\'"](?:[^\s\\]|\\.)*|\\.(?:[^\s\\]|\\.)*)""")

_secrets: set[str] = set()


def redact(text: str) -> str:
    """``text`` with every password masked: in URLs, key/value strings, and registered ones."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    text = _KV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return redact_registered(text)


def redact_registered(text: str) -> str:
    """``text`` with the registered passwords masked, literally, wherever they stand alone.

    "Alone": not inside a longer word, so that a password such as ``postgres`` masks the
    password in ``role "postgres"`` but leaves ``postgresql://`` readable."""
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: no partial leftovers
        if secret in text:
            text = re.sub(r"(?<![A-Za-z0-9])" + re.escape(secret) + r"(?![A-Za-z0-9])",
                          MASK, text)
    return text


def secrets_in(value: str) -> set[str]:
    """The passwords a connection string (either form) carries, raw and decoded."""
    found: set[str] = set()
    for m in _URL_PASSWORD.finditer(value):
        found |= {m.group(2), unquote(m.group(2))}
    for m in _QUERY_PASSWORD.finditer(value):
        found |= {m.group(2), unquote(m.group(2))}
    for m in _KV_PASSWORD.finditer(value):
        raw = m.group(2)
        found.add(raw)
        inner = raw[1:-1] if raw.startswith("'") and raw.endswith("'") and len(raw) > 1 else \
            raw.lstrip("'")
        found |= {inner, re.sub(r"\\(.)", r"\1", inner)}
    # the encoded form of a decoded password too: a message may re-quote it either way
    found |= {quote(s, safe="") for s in list(found)}
    return {s for s in found if s and s != MASK}


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember the passwords in ``values`` (command-line arguments, environment values) so
    that :func:`redact` masks them wherever they turn up, even in libpq's own messages."""
    for value in values:
        if value and ("password" in value.lower() or "@" in value):
            _secrets.update(s for s in secrets_in(value) if len(s) >= MIN_LITERAL)


def register_environment(environ: "dict[str, str] | None" = None) -> None:
    """Register the passwords fraisec may be handed through the environment."""
    import os

    env = os.environ if environ is None else environ
    register_secrets([env.get("FRAISEC_DATABASE_URL")])
    password = env.get("PGPASSWORD")
    if password and len(password) >= MIN_LITERAL:
        _secrets.add(password)


def clear_secrets() -> None:
    """Forget the registered passwords (tests run many commands in one process)."""
    _secrets.clear()


_KEYWORD = re.compile(r"\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|"
                      r"connect_timeout|application_name|options|target_session_attrs)\s*=")


def is_connection_string(value: str) -> bool:
    """A ``postgresql://`` URL or a key/value string (``host=… dbname=…``, starting with one
    of libpq's usual keywords, so that a file named ``a=b.sql`` is not taken for one)."""
    return value.startswith(("postgresql://", "postgres://")) or bool(_KEYWORD.match(value))



def connection_problem(value: str, exc: BaseException) -> tuple[str, str]:
    """FSC902's message and hint for a failed connection, redacted (libpq's message may quote
    the string it could not parse)."""
    first = str(exc).strip().splitlines()
    detail = first[0] if first else type(exc).__name__
    if not is_connection_string(value):
        return (f"cannot connect to {redact(value)!r}: not a postgresql:// URL ({redact(detail)})",
                "Give a URL such as postgresql://user@host:5432/dbname (or a key/value string "
                "such as 'host=… dbname=…').")
    return (f"cannot connect to {redact(value)}: {redact(detail)}",
            "Check the host, port, database name and credentials.")


class RedactingStream:
    """A text stream of messages that masks secrets (:func:`redact`) on the way to another.

    ``target`` is called on every write, so a stream swapped later (as by a test runner) is
    followed. Only for messages: data (SQL on stdout) is never rewritten — a pattern could
    match user SQL (``WHERE password = crypt(…)``), a password such as ``postgres`` a role
    name. Data never carries a connection string: what quotes one is a message."""

    def __init__(self, target) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target().write(redact(text))
        return len(text)

    def __getattr__(self, name: str):
        # isatty, fileno, flush, encoding, …: the stream's own
        return getattr(self._target(), name)
