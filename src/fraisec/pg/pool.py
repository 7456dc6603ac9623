"""Databases kept on the cached embedded server between commands: replay templates and spares.

Creating a database is the slowest step of a shadow (``CREATE DATABASE`` copies ~8 MB and
writes it to the WAL: 0.05 s on an idle machine, a second on a busy one), and replaying a
migration history is the slowest of a replay. Two kinds of databases take both off the path of
a command:

* **replay templates**, ``fraisec_tpl_<key>``: the state after applying a sequence of SQL texts
  (a migration history, or a prefix of it) to an empty database. ``key`` is a hash chained over
  the texts in order (:func:`chain_keys`), so a template is found only for exactly the texts it
  was built from: an edited, inserted or removed file changes the key of its prefix and of every
  longer one, and that template is simply never looked up again. Marked ``IS_TEMPLATE`` (a
  plain ``DROP DATABASE`` refuses it), read in place (introspection only reads) or cloned.
* **spares**, ``fraisec_spare_<base>_<random>``: databases created ahead of time, empty (base
  ``empty``, from ``template0``) or as a clone of a template (base = the template's key). A
  command takes one by renaming it to its shadow's name, which is atomic: two commands never
  get the same spare, and one that finds none creates its database as before.

The watcher (:mod:`fraisec.pg.reaper`) calls :func:`maintain` when the server is idle: it tops
up the spares, drops what crashed commands left and keeps the newest :data:`KEEP_TEMPLATES`
templates. Only fraisec's own embedded server holds these; a server given with
``--shadow-url`` is never used for them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from typing import Sequence

import psycopg
from psycopg import sql

__all__ = [
    "KEEP_TEMPLATES", "chain_keys", "claim_spare", "longest_template", "maintain", "save_template",
    "template_name",
]

# Bump when the way a history is replayed changes (what a template holds would differ).
_FORMAT = b"fraisec-replay-template-1"
KEEP_TEMPLATES = 8
EMPTY_SPARES = 2
TEMPLATE_SPARES = 1  # the history is read in place; a verify replay (a new file) takes one
_SHADOW_PREFIX = "fraisec_shadow_"
_SPARE_PREFIX = "fraisec_spare_"
_TEMPLATE_PREFIX = "fraisec_tpl_"
EMPTY = "empty"


def chain_keys(texts: Sequence[str]) -> list[str]:
    """``keys[i]``: the key of the state after applying ``texts[:i + 1]`` in order."""
    keys, digest = [], hashlib.sha256(_FORMAT).digest()
    for text in texts:
        digest = hashlib.sha256(digest + hashlib.sha256(text.encode("utf-8")).digest()).digest()
        keys.append(digest.hex()[:32])
    return keys


def template_name(key: str) -> str:
    return f"{_TEMPLATE_PREFIX}{key}"


def _spare_prefix(base: str) -> str:
    return f"{_SPARE_PREFIX}{base}_"


def longest_template(conn: psycopg.Connection, keys: Sequence[str]) -> int:
    """How many of the texts behind ``keys`` the longest existing template covers (0: none)."""
    if not keys:
        return 0
    names = [template_name(k) for k in keys]
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s) AND datistemplate",
                        (names,)).fetchall()
    found = {r[0] for r in rows}
    for i in range(len(names), 0, -1):
        if names[i - 1] in found:
            return i
    return 0


def claim_spare(conn: psycopg.Connection, base: str, name: str) -> bool:
    """Rename a spare of ``base`` (``EMPTY`` or a template key) to ``name``; False when none."""
    prefix = _spare_prefix(base)
    rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
                        "ORDER BY random()", (prefix,)).fetchall()
    for (spare,) in rows:
        try:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(spare), sql.Identifier(name)))
            return True
        except psycopg.Error:
            continue  # another command took it first (or it is being created)
    return False


def save_template(conn: psycopg.Connection, database: str, key: str) -> None:
    """Make ``database`` (no longer in use) the template for ``key``: renamed, not copied.
    A concurrent command that saved the same state first wins; then nothing happens here."""
    name = template_name(key)
    try:
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(database), sql.Identifier(name)))
    except psycopg.Error:
        return  # it exists already (same key: same state), or the shadow is still in use
    conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name)))


def maintain(url: str) -> None:
    """Tidy and top up (called by the watcher when no command is running)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute("SELECT datname, datistemplate FROM pg_database ORDER BY oid").fetchall()
        names = [r[0] for r in rows]
        templates = [r[0] for r in rows if r[1] and r[0].startswith(_TEMPLATE_PREFIX)]
        for name in names:
            if name.startswith(_SHADOW_PREFIX) and not _pid_alive(name):
                _drop(conn, name)  # left by a command that was killed
        for name in templates[:-KEEP_TEMPLATES]:
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(name)))
            _drop(conn, name)
        kept = {t[len(_TEMPLATE_PREFIX):] for t in templates[-KEEP_TEMPLATES:]}
        spares: dict[str, int] = {}
        for name in names:
            if name.startswith(_SPARE_PREFIX):
                base = name[len(_SPARE_PREFIX):].rsplit("_", 1)[0]
                if base != EMPTY and base not in kept:
                    _drop(conn, name)  # its template is gone
                else:
                    spares[base] = spares.get(base, 0) + 1
        wanted = [(EMPTY, "template0", EMPTY_SPARES)]
        if templates[-KEEP_TEMPLATES:]:
            newest = templates[-1]
            wanted.append((newest[len(_TEMPLATE_PREFIX):], newest, TEMPLATE_SPARES))
        for base, source, count in wanted:
            for _ in range(count - spares.get(base, 0)):
                spare = f"{_spare_prefix(base)}{secrets.token_hex(4)}"
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(spare), sql.Identifier(source)))
                except psycopg.Error:
                    break  # the template is being read or went away: next time


def _drop(conn: psycopg.Connection, name: str) -> None:
    try:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    except psycopg.Error:
        pass  # in use (a command reads it right now): next time


def _pid_alive(shadow: str) -> bool:
    try:
        pid = int(shadow[len(_SHADOW_PREFIX):].split("_", 1)[0])
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (ValueError, PermissionError):
        return True
    return True
