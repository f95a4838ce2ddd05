"""How every page answers the engine's errors, in one place; the JSON API answers them with its own handlers
(web/api/routes.py), which Flask asks first for its routes.

- NotFound: the 404 page; Forbidden: the 403 page (the same pages as an unknown address or a refused role).
- Conflict (done already, changed meanwhile): its message flashed, and a redirect to where the route says with
  ``back_to`` (the home page when it says nothing).
- InvalidData: a page that takes a form catches it itself and shows the form again with each field's error (only it
  knows the form); on a route marked ``back_to`` each message is flashed and the visitor sent back there; elsewhere 400.

The request's transaction is rolled back first: a refused command changes nothing. A route that needs another
reaction (the citizen's pages carry the access code back in a cookie) keeps its own ``except``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from engine import Conflict, Forbidden, InvalidData, NotFound
from web.extensions import db

bp = Blueprint("errors", __name__)
Target = Callable[..., str]  # the view's arguments -> the URL to go back to


def back_to(target: Target) -> Callable:
    """Mark a page whose refused command (Conflict, InvalidData) sends the visitor to ``target(**view_args)``, with
    the engine's messages flashed. Put it right under the route decorator."""

    def mark(view: Callable) -> Callable:
        view.back_to = target  # type: ignore[attr-defined]
        return view

    return mark


def _target() -> Target | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "back_to", None)


@bp.app_errorhandler(403)
@bp.app_errorhandler(404)
def error_page(error: Any) -> tuple[str, int]:
    """Friendly pages for what a visitor may meet."""
    return render_template("error.html", code=error.code), error.code


@bp.app_errorhandler(NotFound)
def not_found(_error: NotFound) -> tuple[str, int]:
    db.session.rollback()
    return render_template("error.html", code=404), 404


@bp.app_errorhandler(Forbidden)
def forbidden(_error: Forbidden) -> tuple[str, int]:
    db.session.rollback()
    return render_template("error.html", code=403), 403


@bp.app_errorhandler(Conflict)
def conflict(error: Conflict) -> Response:
    db.session.rollback()
    flash(error.message, "error")
    target = _target()
    return redirect(target(**(request.view_args or {})) if target else url_for("public.home"))


@bp.app_errorhandler(InvalidData)
def invalid(error: InvalidData) -> Response:
    db.session.rollback()
    target = _target()
    if target is None:
        return BadRequest(error.message).get_response()
    for message in error.errors.values():
        flash(message, "error")
    return redirect(target(**(request.view_args or {})))
