"""Validation: IR → diagnostics, from a registry of rules run in a fixed order."""

from __future__ import annotations

from fraisec.diagnostics import Diagnostic
from fraisec.ir.model import Schema
from fraisec.validate.rules import RULES

# Importing the rule modules registers their rules.
from fraisec.validate import structure, tenancy  # noqa: E402,F401

__all__ = ["validate"]


def validate(schema: Schema) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for rule in RULES.values():
        diagnostics.extend(rule(schema))
    return diagnostics
