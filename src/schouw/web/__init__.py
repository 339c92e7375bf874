"""The web API and UI over the flights catalog (FastAPI). ``schouw serve`` starts it."""
