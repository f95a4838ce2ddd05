"""Telling people: inbox notifications and outbox mail written with their cause, and delivering the outbox."""
