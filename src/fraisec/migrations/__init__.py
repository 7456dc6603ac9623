"""Migrations: files, checksums, history, applying them under a lock, drift.

Public API (``fraisec.cli.migrate`` and ``fraisec.cli.check`` are built on it)::

    files.discover(dir) -> (files, diagnostics)              NNNN_slug.sql, header, segments
    files.segments(file) -> (segments, diagnostics)          what runs in which transaction
    checksum.verify_sum(dir, [(name, text)]) / write_sum(…)  migrations/fraisec.sum
    apply.apply(url, dir, Settings(), dry_run=, to_version=, notify=) -> ApplyResult
    apply.status(url, dir) -> (states, lock holder, diagnostics)
    apply.baseline(url, dir, version=None) / apply.repair(url, dir)
    fanout.apply_many(targets, dir, …) -> [TargetResult]       many databases / tenant schemas
    fanout.status_many(…) / check_many(…)                    the same targets, read only
    registry.load_registry(path) -> (Registry, diagnostics)  tenants.toml; .select(), .resolve()
    provision.provision(resolved, dir)                       tenant create: container + apply
    generate.migration_diff(name, schema_ref, db_dir, dir, database=, unsafe=) -> DiffOutcome
    drift.check_drift(schema_ref, db_dir, dir, database=) -> Drift
    drift.adoption_differences(url, dir, upto)               what baseline would assume
    replay.history_catalog(dir) / database_catalog(url) / desired_catalog(ref, db_dir)

Errors that stop a run are ``apply.MigrationError(diagnostics)`` (or the catalog stage's
``CatalogError``); a lock wait that times out is ``lock.LockTimeout`` (exit 5 in the CLI).
"""
