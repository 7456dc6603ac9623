"""Migrations: files, checksums, history, and applying them under a lock.

Public API (the CLI in ``fraisec.cli.migrate`` and ``fraisec.cli.check`` is built on it)::

    files.discover(dir) -> (files, diagnostics)          NNNN_slug.sql, header, segments
    checksum.verify_sum(dir, [(name, text)]) -> diagnostics   fraisec.sum
    checksum.write_sum(dir, [(name, text)])
    apply.apply(url, dir, Settings(), dry_run=, to_version=, notify=) -> ApplyResult
    apply.status(url, dir) -> (states, lock holder, diagnostics)
    apply.baseline(url, dir, version=None) / apply.repair(url, dir)
    generate.write_migration(...)                        ``migrate diff NAME``
    replay.replayed_catalog(...)                         the history replayed into a shadow

Errors that stop a run are raised as ``MigrationError(diagnostics)``; a lock wait that times
out is ``lock.LockTimeout`` (exit 5 in the CLI).
"""
