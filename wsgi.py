"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from expo_app import create_app

app = create_app()
