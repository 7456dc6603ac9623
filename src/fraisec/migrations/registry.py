"""The tenant registry: ``tenants.toml``, the databases (and schemas) a project's migrations go to.

::

    [servers.eu1]                 # a PostgreSQL server; {database} is the tenant's database
    url = "postgresql://fraisec@eu1.internal:5432/{database}"
    password_env = "EU1_PASSWORD"          # the password is read from this variable, never stored
    admin_url = "postgresql://postgres@eu1.internal:5432/postgres"   # CREATE DATABASE (optional)

    [defaults]                    # any tenant key except name
    server = "eu1"

    [[tenants]]
    name = "acme"                 # database per tenant (the default strategy), database tenant_acme

    [[tenants]]
    name = "globex"
    strategy = "schema"           # schema per tenant: schema tenant_globex in database "shared"
    database = "shared"

    [[tenants]]
    name = "initech"
    strategy = "shared"           # rows in the shared tables (RLS) of database "app" (hybrid)
    database = "app"

A tenant's URL is its ``url``, else its server's; ``{name}``, ``{database}`` and ``{schema}``
are replaced, then ``${VAR}`` by the environment variable. A password written in the file is
refused (FSC531): it comes from ``password_env`` (or from a ``${VAR}`` holding a whole URL).

Reading the file and resolving a tenant return diagnostics, never raise; the resolved URL holds
the password and is shown only through ``redact``.
"""

from __future__ import annotations

import fcntl
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from fraisec.diagnostics import Diagnostic, Location, did_you_mean, error

__all__ = ["REGISTRY_NAME", "Registry", "Resolved", "Server", "Tenant", "append_tenant",
           "load_registry", "replace_tenant", "valid_name", "with_database"]

REGISTRY_NAME = "tenants.toml"
STRATEGIES = ("database", "schema", "shared")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")  # tenant_<name> stays a plain identifier
_SERVER_KEYS = ("url", "password_env", "admin_url", "admin_password_env")
_TENANT_KEYS = ("name", "strategy", "server", "url", "password_env", "admin_url",
                "admin_password_env", "database", "schema", "search_path", "role", "member_of")
_PLACEHOLDER = re.compile(r"\{(name|database|schema)\}")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Server:
    name: str
    url: str | None = None
    password_env: str | None = None
    admin_url: str | None = None
    admin_password_env: str | None = None


@dataclass(frozen=True)
class Tenant:
    """One entry as written (with ``[defaults]`` filled in); see :meth:`Registry.resolve`."""

    name: str
    strategy: str = "database"
    server: str | None = None
    url: str | None = None
    password_env: str | None = None
    admin_url: str | None = None
    admin_password_env: str | None = None
    database: str | None = None
    schema: str | None = None
    search_path: tuple[str, ...] = ()
    role: str | None = None  # schema per tenant: the tenant's role ({name}, {schema} allowed)
    member_of: tuple[str, ...] = ()  # roles it is granted (the API role the files grant to)
    line: int | None = None


@dataclass(frozen=True)
class Resolved:
    """A tenant ready to connect to: URLs with their password (print them only redacted)."""

    name: str
    strategy: str
    url: str
    admin_url: str | None  # None: admin_problems says why (needed by `tenant create` only)
    database: str | None
    schema: str | None  # schema per tenant: the tenant's schema
    search_path: tuple[str, ...] = ()
    role: str | None = None
    member_of: tuple[str, ...] = ()
    admin_problems: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class Registry:
    path: Path
    servers: dict[str, Server] = field(default_factory=dict)
    tenants: tuple[Tenant, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)  # [defaults], as written

    def entry(self, values: dict[str, Any]) -> Tenant:
        """A tenant not (yet) in the file: ``values`` over ``[defaults]``."""
        merged = {**self.defaults, **values}
        return Tenant(**{**merged, "search_path": tuple(merged.get("search_path", ())),
                         "member_of": tuple(merged.get("member_of", ()))})

    def get(self, name: str) -> Tenant | None:
        return next((t for t in self.tenants if t.name == name), None)

    def check_new(self, values: dict[str, Any]) -> list[Diagnostic]:
        """The problems ``values`` would have as a new ``[[tenants]]`` entry of this file (the
        checks a read applies, so ``tenant create`` never writes what it could not read)."""
        servers = {s.name: {k: v for k, v in vars(s).items() if v is not None and k != "name"}
                   for s in self.servers.values()}
        entries = [{k: v for k, v in vars(t).items() if v not in (None, ()) and k != "line"}
                   for t in self.tenants]
        _registry, problems = _parse(self.path, "", {
            "servers": servers, "defaults": self.defaults, "tenants": [*entries, values]})
        return problems

    def select(self, names: list[str], everything: bool) -> tuple[list[Tenant], list[Diagnostic]]:
        """The tenants named (in the order given), or all of them (in file order)."""
        if everything:
            return list(self.tenants), []
        chosen, problems = [], []
        for name in dict.fromkeys(names):
            tenant = self.get(name)
            if tenant is None:
                known = [t.name for t in self.tenants]
                problems.append(error(
                    "FSC532", f"no tenant {name!r} in {self.path}", Location(str(self.path)),
                    hint=" ".join(x for x in (did_you_mean(name, known), "Known tenants: "
                                              + (", ".join(known) or "none") + ".") if x)))
            else:
                chosen.append(tenant)
        return chosen, problems

    def resolve(self, tenant: Tenant) -> tuple[Resolved | None, list[Diagnostic]]:
        """The tenant's URLs with placeholders, environment variables and password filled in."""
        where = Location(str(self.path), tenant.line)
        # a tenant's own url replaces its server entirely (credentials and admin connection too)
        server = self.servers.get(tenant.server) if tenant.server and not tenant.url else None
        if tenant.server and not tenant.url and server is None:
            return None, [error("FSC532", f"tenant {tenant.name} names server {tenant.server!r}, "
                                          f"which {self.path} does not define", where,
                                hint=" ".join(x for x in (did_you_mean(tenant.server, self.servers),
                                                          f"Add [servers.{tenant.server}].") if x))]
        template = tenant.url or (server.url if server else None)
        if template is None:
            return None, [error("FSC534", f"tenant {tenant.name} has no url and no server", where,
                                hint="Give it `url = \"postgresql://…\"` or `server = \"NAME\"` "
                                     "(or set one in [defaults]).")]
        password_env = tenant.password_env or (server.password_env if server else None)
        database = tenant.database or (f"tenant_{tenant.name}" if tenant.strategy == "database"
                                       else None)
        schema = (tenant.schema or f"tenant_{tenant.name}") if tenant.strategy == "schema" else None
        values = {"name": tenant.name, "database": database, "schema": schema}
        problems: list[Diagnostic] = []
        url = _fill(template, values, tenant, where, problems)
        url = _with_password(url, password_env, tenant, where, problems) if url else None
        admin_template = tenant.admin_url or (server.admin_url if server else None)
        admin_env = (tenant.admin_password_env or (server.admin_password_env if server else None)
                     or (password_env if admin_template is None else None))
        if problems or url is None:
            return None, problems
        if database is None:  # the url names it (a shared database, say)
            database = unquote(urlsplit(url).path.lstrip("/")) or None
            if database is None and tenant.strategy != "schema":
                return None, [error("FSC534", f"tenant {tenant.name} names no database", where,
                                    hint="Set database = \"…\" (the shared database), or "
                                         "name it in the url.")]
        # The admin connection is resolved apart: `migrate apply` must not need its password.
        admin_problems: list[Diagnostic] = []
        if admin_template is not None:
            admin = _fill(admin_template, values, tenant, where, admin_problems)
            admin = _with_password(admin, admin_env, tenant, where, admin_problems) if admin else None
        else:  # the tenant's own credentials on the server's maintenance database
            admin = _with_database(url, "postgres")
        def fill(text: str) -> str:  # names, not URLs: no quoting, no environment
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)] or "", text)

        search_path = tuple(fill(s) for s in tenant.search_path) or (
            (schema, "public", "pg_temp") if schema else ())
        role = fill(tenant.role) if tenant.role else None
        return Resolved(tenant.name, tenant.strategy, url, admin, database, schema,
                        tuple(search_path), role, tenant.member_of, tuple(admin_problems)), []


# -- reading ---------------------------------------------------------------------------------

def load_registry(path: Path) -> tuple[Registry | None, list[Diagnostic]]:
    """The registry, or None with diagnostics (FSC530 unreadable, FSC531 a password in it,
    FSC534 an invalid entry)."""
    where = Location(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [error("FSC530", f"tenant registry {path} not found", where,
                            hint="Create it with `fraisec tenant create NAME …` (or by hand: "
                                 "docs/tenancy.md), or run from the project that has it.")]
    except OSError as exc:
        return None, [error("FSC530", f"cannot read {path}: {exc.strerror}", where)]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [error("FSC530", f"{path} is not valid TOML: {exc}", where,
                            hint="Fix the syntax (https://toml.io).")]
    return _parse(path, text, data)


def _parse(path: Path, text: str, data: dict[str, Any]
           ) -> tuple[Registry | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    unknown = sorted(set(data) - {"servers", "defaults", "tenants"})
    for key in unknown:
        problems.append(_invalid(path, _line_of(text, key), f"unknown top-level key {key!r}",
                                 "The file has [servers.NAME], [defaults] and [[tenants]]."))
    servers: dict[str, Server] = {}
    for name, table in _table(data.get("servers", {}), path, "servers", problems).items():
        line = _line_of(text, f"[servers.{name}]")
        entry = _entry(table, _SERVER_KEYS, path, line, f"server {name}", problems)
        servers[name] = Server(name, **entry)
    defaults = _entry(_table(data.get("defaults", {}), path, "defaults", problems),
                      _TENANT_KEYS[1:], path, _line_of(text, "[defaults]"), "[defaults]", problems)
    tenants: list[Tenant] = []
    raw = data.get("tenants", [])
    if not isinstance(raw, list):
        raw, _ = [], problems.append(_invalid(path, None, "tenants must be an array of tables",
                                              "Write each tenant as a [[tenants]] table."))
    lines = _lines_of(text, "[[tenants]]")
    for index, table in enumerate(raw):
        line = lines[index] if index < len(lines) else None
        entry = _entry(_table(table, path, "[[tenants]]", problems), _TENANT_KEYS, path, line,
                       "tenant", problems)
        tenant = _tenant({**defaults, **entry}, path, line, problems)
        if tenant is not None:
            if any(t.name == tenant.name for t in tenants):
                problems.append(_invalid(path, line, f"tenant {tenant.name} is listed twice",
                                         "Keep one entry per tenant."))
            tenants.append(tenant)
    if problems:
        return None, problems
    return Registry(path, servers, tuple(tenants), defaults), []


def _tenant(entry: dict[str, Any], path: Path, line: int | None, problems: list[Diagnostic]
            ) -> Tenant | None:
    name = entry.get("name")
    if not isinstance(name, str) or not valid_name(name):
        problems.append(_invalid(path, line, f"tenant name {name!r} is missing or invalid",
                                 "A name is 1-48 characters: a lowercase letter, then lowercase "
                                 "letters, digits or _ (it names tenant_<name>)."))
        return None
    strategy = entry.get("strategy", "database")
    if strategy not in STRATEGIES:
        problems.append(_invalid(path, line, f"tenant {name}: unknown strategy {strategy!r}",
                                 "strategy is \"database\" (database per tenant), \"schema\" "
                                 "(schema per tenant) or \"shared\" (the shared tables of a "
                                 "database, isolated by RLS)."))
        return None
    if strategy == "schema" and entry.get("schema") == "migrations":
        problems.append(_invalid(path, line, f"tenant {name}: schema \"migrations\" is reserved",
                                 "It is the name of the database's own history table."))
        return None
    lists = {}
    for key, example in (("search_path", '["tenant_{name}", "shared", "pg_temp"]'),
                         ("member_of", '["app_user"]')):
        value = entry.get(key, ())
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            problems.append(_invalid(path, line, f"tenant {name}: {key} must be a list of names",
                                     f"e.g. {key} = {example}"))
            return None
        lists[key] = tuple(value)
    if strategy != "schema" and (entry.get("role") or lists["member_of"]):
        problems.append(_invalid(path, line, f"tenant {name}: role and member_of apply to "
                                             "schema per tenant only",
                                 "A database per tenant is isolated by its own connection "
                                 "credentials; remove role/member_of, or use strategy = "
                                 "\"schema\"."))
        return None
    return Tenant(**{**entry, **lists, "line": line})


def _entry(table: dict[str, Any], keys: tuple[str, ...], path: Path, line: int | None,
           what: str, problems: list[Diagnostic]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in keys:
            hint = did_you_mean(key, keys) or f"Known keys: {', '.join(keys)}."
            problems.append(_invalid(path, line, f"{what}: unknown key {key!r}", hint))
        elif key not in ("search_path", "member_of") and not isinstance(value, str):
            problems.append(_invalid(path, line, f"{what}: {key} must be a string", None))
        else:
            out[key] = value
    for key in ("url", "admin_url"):
        if isinstance(out.get(key), str) and _has_password(out[key]):
            problems.append(error(
                "FSC531", f"{what}: {key} holds a password; {path} must not store secrets",
                Location(str(path), line),
                hint="Remove the password from the URL and name the environment variable "
                     "that holds it: password_env = \"VAR\" (admin_password_env for admin_url), "
                     "or write the whole URL as \"${VAR}\"."))
    return out


def _table(value: Any, path: Path, what: str, problems: list[Diagnostic]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.append(_invalid(path, None, f"{what} must be a table", None))
    return {}


def _invalid(path: Path, line: int | None, message: str, hint: str | None) -> Diagnostic:
    return error("FSC534", f"{path}: {message}", Location(str(path), line), hint=hint)


def _lines_of(text: str, header: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith(header)]


def _line_of(text: str, needle: str) -> int | None:
    return next((i for i, line in enumerate(text.splitlines(), 1) if needle in line), None)


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


# -- URLs ------------------------------------------------------------------------------------

def _has_password(url: str) -> bool:
    """A password written literally (a ``${VAR}`` is read from the environment: allowed)."""
    if _ENV.fullmatch(url.strip()):
        return False
    try:
        parts = urlsplit(url)
        literal = parts.password is not None and not _ENV.search(parts.password)
    except ValueError:
        return False
    in_query = any(k == "password" for k, _ in parse_qsl(parts.query))
    return literal or in_query


def _fill(template: str, values: dict[str, str | None], tenant: Tenant, where: Location,
          problems: list[Diagnostic]) -> str | None:
    missing = [m for m in _PLACEHOLDER.findall(template) if values[m] is None]
    if missing:
        problems.append(error("FSC534", f"tenant {tenant.name}: the URL uses {{{missing[0]}}} "
                                        "but the tenant has none", where,
                              hint=f"Set {missing[0]} = \"…\" for the tenant (or in [defaults])."))
        return None
    text = _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)] or "", safe=""), template)
    unset = [v for v in _ENV.findall(text) if v not in os.environ]
    if unset:
        problems.append(_unset(unset[0], tenant, where))
        return None
    return _ENV.sub(lambda m: os.environ[m.group(1)], text)


def _with_password(url: str, variable: str | None, tenant: Tenant, where: Location,
                   problems: list[Diagnostic]) -> str | None:
    if variable is None:
        return url
    if variable not in os.environ:
        problems.append(_unset(variable, tenant, where))
        return None
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0] if at else ""
    netloc = f"{user}:{quote(os.environ[variable], safe='')}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, database: str) -> str:
    """The same connection, on another database."""
    return _with_database(url, database)


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(database, safe="")))


def _unset(variable: str, tenant: Tenant, where: Location) -> Diagnostic:
    return error("FSC533", f"tenant {tenant.name}: environment variable {variable} is not set",
                 where, hint=f"Export {variable} (the registry names it; the value is never "
                             "written to a file or printed).")


# -- writing ---------------------------------------------------------------------------------

def append_tenant(path: Path, entry: dict[str, Any]) -> bool:
    """Add a ``[[tenants]]`` table at the end of the file (created when missing), keeping the
    rest of the file as written. False when a tenant of that name is already there. Serialised
    with an exclusive lock so concurrent ``tenant create`` runs do not interleave."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        current = tomllib.loads(text).get("tenants", []) if text.strip() else []
        if any(isinstance(t, dict) and t.get("name") == entry["name"] for t in current):
            return False
        block = "[[tenants]]\n" + tomli_w.dumps(entry)  # tomli_w would inline a short array
        separator = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        handle.write(separator + block)
        return True


def replace_tenant(path: Path, name: str, entry: dict[str, Any]) -> bool:
    """Rewrite tenant ``name``'s ``[[tenants]]`` table as ``entry``, leaving every other line of
    the file as written. False when the file has no such tenant."""
    import tomli_w

    with open(path, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        lines = handle.read().splitlines(keepends=True)
        starts = [i for i, line in enumerate(lines) if line.strip().startswith("[[tenants]]")]
        current = tomllib.loads("".join(lines)).get("tenants", [])
        index = next((k for k, t in enumerate(current) if t.get("name") == name), None)
        if index is None or index >= len(starts):
            return False
        start = starts[index]
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
                   len(lines))
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1  # keep the blank lines before the next table
        block = "[[tenants]]\n" + tomli_w.dumps(entry)
        handle.seek(0)
        handle.write("".join(lines[:start]) + block + "".join(lines[end:]))
        handle.truncate()
        return True
