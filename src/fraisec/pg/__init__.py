"""PostgreSQL plumbing shared by every stage that talks to a server.

``server`` runs fraisec's embedded (throwaway) PostgreSQL from the machine's binaries;
``connect`` opens psycopg connections from URLs and turns failures into diagnostics.
"""
