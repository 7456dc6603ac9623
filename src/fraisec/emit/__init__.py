"""Emitters: IR → runtime artifacts (``schema.json``)."""
