"""Storage: the tables (``tables``), connecting and the schema's Alembic upgrade (``database``), backup and restore."""
