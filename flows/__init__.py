"""Prefect flows of schouw: thin wiring of library stages into tasks."""
