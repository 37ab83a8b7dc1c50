from flask import Blueprint

bp = Blueprint("judging", __name__)

from . import views  # noqa: E402,F401
