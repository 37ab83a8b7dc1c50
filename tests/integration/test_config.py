import pytest

from config import ProductionConfig
from expo_app import create_app


class Prod(ProductionConfig):
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None


@pytest.mark.parametrize("secret, url, message", [
    (None, "sqlite://", "Production needs SECRET_KEY in the environment."),
    ("x" * 40, None, "Production needs DATABASE_URL in the environment."),
    ("short", "sqlite://", "SECRET_KEY must be at least 32 characters in production."),
])
def test_production_refuses_to_start_without_its_secrets(secret, url, message):
    config = type("P", (Prod,), {"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url})
    with pytest.raises(RuntimeError, match=message):
        create_app(config)


def test_production_starts_with_them_and_uses_psycopg3():
    config = type("P", (Prod,), {"SECRET_KEY": "y" * 40, "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/db"})
    app = create_app(config)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_keeps_a_secret_in_the_instance_folder(tmp_path, monkeypatch):
    from config import DevelopmentConfig

    monkeypatch.setenv("EXPO_INSTANCE_PATH", str(tmp_path))
    dev = type("D", (DevelopmentConfig,), {"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": None})
    first = create_app(dev).config["SECRET_KEY"]
    assert len(first) >= 48 and create_app(dev).config["SECRET_KEY"] == first  # printed links survive restarts
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert create_app(dev).config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'expo.sqlite'}"


@pytest.mark.any_database
def test_sqlite_pragmas(app, backend):
    from expo_app.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_production_warns_when_printed_links_would_point_at_loopback(caplog):
    config = type("P", (Prod,), {"SECRET_KEY": "y" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                                 "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    with caplog.at_level("WARNING"):
        create_app(config)
    assert "printed QR codes and judge links will not work" in caplog.text
