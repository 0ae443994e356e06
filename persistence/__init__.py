"""SQLAlchemy 2 async persistence: PostgreSQL in production, SQLite embedded."""
