"""Public pages for teams and visitors: anyone holding the link may open them, and they show only
what the link is for."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import views  # noqa: E402,F401
