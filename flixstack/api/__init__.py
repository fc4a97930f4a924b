"""The FastAPI application: one router per capability."""
