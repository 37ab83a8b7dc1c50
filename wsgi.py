"""Entry point for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app`.

Served this way the app runs the production configuration unless EXPO_ENV names another one
(`make run` and `expo run` use the development one).
"""
from config import config_from_env
from expo_app import create_app

app = create_app(config_from_env(default="production"))
