"""Storage of every exchange: SQLAlchemy 2 models, Alembic migrations, a background writer."""
