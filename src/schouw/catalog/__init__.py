"""The flights catalog: flights, runs, issues and review actions in a database.

SQLite by default (one file in the data directory), PostgreSQL when given a URL;
the schema is created and upgraded by Alembic (:mod:`schouw.catalog.db`).
No web code here: :mod:`schouw.web` serves it.
"""
