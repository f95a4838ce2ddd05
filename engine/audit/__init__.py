"""The audit trail: the hash chain of every event, and deterministic replay of a case from it."""
