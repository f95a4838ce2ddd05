"""JSON API /api/v1 (DESIGN.md) for the mobile app and partner systems."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
