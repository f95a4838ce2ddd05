"""Storage: the tables (``tables``), connecting (``connection``), the schema's Alembic migrations (``schema``),
backup and restore (``backup``)."""
