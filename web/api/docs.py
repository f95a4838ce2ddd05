"""The JSON API's interactive documentation (GET /api/v1/docs): Swagger UI over GET /api/v1/openapi.json.

Swagger UI 5 (it reads OpenAPI 3.1) comes from the flask-swagger-ui package, of which only the built files in its
dist/ folder are used: its own blueprint starts Swagger UI with an inline script, which the site's policy
(web/security.py, ``script-src 'self'``) refuses. Here the page is a template of ours (templates/api/docs.html),
Swagger UI's stylesheet and script are served from this origin (GET /api/v1/docs/<asset>), and our own
static/api-docs.js starts it with the document's address read from a data- attribute. Nothing is loaded from
another site.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Response, abort, render_template, send_from_directory

DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# the two files the page uses, with their types (the system's mimetypes table is not relied on for .js)
ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
CACHE_SECONDS = 24 * 3600  # they change only when the package is upgraded


def page() -> str:
    return render_template("api/docs.html")


def asset(name: str) -> Response:
    """One of ASSETS from the package; 404 for any other name."""
    if name not in ASSETS:
        abort(404)
    return send_from_directory(DIST, name, mimetype=ASSETS[name], max_age=CACHE_SECONDS)
