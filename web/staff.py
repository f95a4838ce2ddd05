from flask import Blueprint

bp = Blueprint("staff", __name__)


@bp.route("/tugas")
def inbox():
    return "inbox"
