"""Who visits whom: the assignment plan (admin pages) and the judge's route."""
from flask import Blueprint

bp = Blueprint("assignments", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401
