"""Seed 003: one module, three tenancy strategies (rls, schema per tenant, database per tenant).

Which one is used is configuration: [tenancy] strategy in each subdirectory's fraisec.toml.
"""
from __future__ import annotations

import fraisec as fq
from fraisec.scalars import DateTime

fq.tenancy(tenant="Organization", claim="org_id", user="User")


@fq.entity
class Organization:
    """A tenant."""

    identifier: str = fq.field(unique=True)
    name: str


@fq.entity
class User:
    """A person; shared by every tenant."""

    identifier: str = fq.field(unique=True)
    name: str

@fq.entity(tenant=True)
class Note:
    """A note of one organization."""

    organization: Organization
    title: str
    author: User | None = None
    created_at: DateTime = fq.now()

@fq.query
def notes(limit: int = 50) -> list[Note]:
    """The tenant's notes."""


@fq.mutation(operation="CREATE")
def create_note(title: str) -> Note:
    """Add a note."""
