"""GET /api/v1/docs (issue "Every page as its user expects", point 7): Swagger UI over /api/v1/openapi.json, every file
from this origin, under the site's policy (no inline script), rendering the operations in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser import in_chromium
from web.security import CONTENT_SECURITY_POLICY

DOCS = "/api/v1/docs"


def referenced(html: str) -> list[str]:
    """Every address the page's <script src> and <link href> load."""
    return re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html) + re.findall(r"<link\b[^>]*\bhref=\"([^\"]+)\"", html)


def test_the_docs_page_answers_under_the_policy_and_loads_only_files_of_this_origin(client):
    response = client.get(DOCS)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert re.search(r'id="swagger-ui" data-spec-url="/api/v1/openapi.json"', html)
    assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", html)  # no inline script: the policy would refuse it
    addresses = referenced(html)
    assert {"/api/v1/docs/swagger-ui.css", "/api/v1/docs/swagger-ui-bundle.js", "/static/api-docs.js"} <= set(addresses)
    for address in addresses:
        if address.startswith("data:"):  # the icon travels inside the page (base.html)
            continue
        assert address.startswith("/") and not address.startswith("//"), address  # same origin, no CDN
        asset = client.get(address)
        assert asset.status_code == 200, address
        assert asset.mimetype in ("text/css", "text/javascript", "application/javascript"), (address, asset.mimetype)


def test_swagger_uis_files_are_cacheable_and_no_other_file_is_served(client):
    bundle = client.get("/api/v1/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data
    assert "no-store" not in bundle.headers["Cache-Control"] and "max-age" in bundle.headers["Cache-Control"]
    for name in ("index.html", "LICENSE", "..%2F__init__.py", "oauth2-redirect.html"):
        response = client.get(f"/api/v1/docs/{name}")
        assert response.status_code == 404 and response.is_json, name


def test_the_readme_names_the_document_the_docs_and_the_multipart_form():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "/api/v1/openapi.json" in readme and "/api/v1/docs" in readme and "multipart/form-data" in readme


def test_swagger_ui_renders_the_operations_in_chromium_with_no_policy_violation(app):
    """Chromium loads the page from a real server with the real headers: Swagger UI shows the operations of the
    document, and the browser reports no Content-Security-Policy violation and asks no other site for anything."""

    def visit(page, origin: str) -> dict:
        violations, elsewhere = [], []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith((origin, "data:")) else None)
        page.goto(origin + DOCS)
        page.locator(".opblock-summary-path", has_text="/complaints").first.wait_for(timeout=15000)
        return {
            "operations": page.locator(".opblock").count(),
            "title": page.locator(".info .title").first.inner_text(),
            "violations": violations,
            "elsewhere": elsewhere,
        }

    seen = in_chromium(app, visit, timeout=90)
    assert seen["operations"] >= 15 and "SP4N-LAPOR!" in seen["title"]
    assert seen["violations"] == [] and seen["elsewhere"] == []
