"""Settings come only from the environment: production-hard by default, clear errors when wrong.

Each case imports `jelly.settings` in a fresh interpreter with a clean environment, because the
test process itself runs under `jelly.settings_test` (which fills in test defaults).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from jelly.settings import site_address

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jelly"
LONG_SECRET_KEY = "k3y-" + "x7Qp9zR2mW5tY8bN4vC6" * 3

DUMP_SETTINGS = """
import json
from jelly import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECRET_KEY": s.SECRET_KEY,
    "FIELD_ENCRYPTION_KEYS": s.FIELD_ENCRYPTION_KEYS,
    "DATABASE": {k: v for k, v in s.DATABASES["default"].items() if k in ("ENGINE", "NAME", "OPTIONS")},
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL,
    "CELERY_TASK_ALWAYS_EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "TIME_ZONE": s.TIME_ZONE,
    "USE_TZ": s.USE_TZ,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SITE_URL": s.SITE_URL,
}))
"""


def production_env(**overrides: str) -> dict[str, str]:
    """The environment a production container would have (secrets included), plus overrides."""
    values = {
        "DEBUG": "false",
        "SECRET_KEY": LONG_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "jelly.example",
        "SITE_URL": "https://jelly.example",
        "DATABASE_URL": TEST_DATABASE_URL,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "DJANGO_SETTINGS_MODULE": "jelly.settings", **env}
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_settings(env: dict[str, str]) -> dict:
    result = run_python(["-c", DUMP_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def settings_error(env: dict[str, str]) -> str:
    """Import the settings expecting failure; returns the last line of the traceback."""
    result = run_python(["-c", "import jelly.settings"], env)
    assert result.returncode != 0, result.stdout
    return result.stderr.strip().splitlines()[-1]


def test_secret_key_is_required_when_debug_is_off():
    error = settings_error(production_env(SECRET_KEY=None))

    assert error.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert "SECRET_KEY must be set when DEBUG is off" in error


def test_debug_is_off_when_not_set_so_a_missing_secret_key_fails():
    env = production_env(SECRET_KEY=None)
    del env["DEBUG"]

    assert "SECRET_KEY must be set when DEBUG is off" in settings_error(env)


def test_field_encryption_key_is_required_when_debug_is_off():
    error = settings_error(production_env(FIELD_ENCRYPTION_KEY=None))

    assert error.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert "FIELD_ENCRYPTION_KEY must be set when DEBUG is off" in error


def test_site_url_is_required_when_debug_is_off():
    error = settings_error(production_env(SITE_URL=None))

    assert error.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert "SITE_URL must be set when DEBUG is off" in error


def test_development_runs_without_secrets_when_debug_is_on():
    loaded = load_settings({"DEBUG": "true"})

    assert loaded["DEBUG"] is True
    assert loaded["SECRET_KEY"].startswith("django-insecure-")
    assert len(loaded["FIELD_ENCRYPTION_KEYS"]) == 1
    assert loaded["SITE_URL"] == "http://127.0.0.1:8000"  # where `make run` serves


def test_site_url_is_read_from_the_environment_without_its_trailing_slash():
    loaded = load_settings(production_env(SITE_URL="https://jelly.example-clinic.co.uk/"))

    assert loaded["SITE_URL"] == "https://jelly.example-clinic.co.uk"


def test_a_malformed_site_url_fails_at_start_naming_the_setting_and_value():
    error = settings_error(production_env(SITE_URL="jelly.example-clinic.co.uk"))

    assert error == (
        "django.core.exceptions.ImproperlyConfigured: SITE_URL must be an http(s) URL with a host, "
        "e.g. https://jelly.example.com, not 'jelly.example-clinic.co.uk'"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://jelly.example-clinic.co.uk", "https://jelly.example-clinic.co.uk"),
        ("https://jelly.example-clinic.co.uk/", "https://jelly.example-clinic.co.uk"),
        ("  HTTPS://Jelly.Example-Clinic.co.uk  ", "https://jelly.example-clinic.co.uk"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_site_url_keeps_only_scheme_host_and_port(raw, expected):
    assert site_address("SITE_URL", raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "jelly.example.com",  # no scheme: an email client would not make it a link
        "ftp://jelly.example.com",
        "javascript:alert(1)",
        "https://",
        "https:///jelly",
        "https://jelly example.com",
        "https://jelly.example.com:0",
        "https://jelly.example.com:99999",
        "https://jelly.example.com:https",
        "http://[::1",
    ],
)
def test_site_url_must_be_an_http_url_with_a_host(raw):
    with pytest.raises(ImproperlyConfigured, match=r"SITE_URL must be an http\(s\) URL with a host"):
        site_address("SITE_URL", raw)


@pytest.mark.parametrize(
    "raw",
    [
        "https://jelly.example.com/jelly",  # reverse() paths start at the root: links would miss /jelly
        "https://jelly.example.com//",
        "https://jelly.example.com?clinic=1",
        "https://jelly.example.com/?",
        "https://jelly.example.com#top",
        "https://admin:secret@jelly.example.com",
    ],
)
def test_site_url_has_no_path_query_fragment_or_login(raw):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must be a scheme and host only"):
        site_address("SITE_URL", raw)


@pytest.mark.parametrize(("name", "raw"), [("DEBUG", "maybe"), ("SECURE_SSL_REDIRECT", "sometimes")])
def test_a_malformed_boolean_fails_at_start_naming_the_setting_and_value(name, raw):
    error = settings_error(production_env(**{name: raw}))

    assert error == f"django.core.exceptions.ImproperlyConfigured: {name} must be true or false, not {raw!r}"


def test_a_malformed_number_fails_at_start_naming_the_setting():
    error = settings_error(production_env(SECURE_HSTS_SECONDS="a year"))

    assert "SECURE_HSTS_SECONDS must be a whole number, not 'a year'" in error


def test_secret_key_is_read_from_the_file_named_by_secret_key_file(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("from-a-docker-secret-" + "q" * 40 + "\n")

    loaded = load_settings(production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file)))

    assert loaded["SECRET_KEY"] == "from-a-docker-secret-" + "q" * 40


def test_the_secret_file_wins_over_the_plain_variable(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("file-value-" + "f" * 40)

    loaded = load_settings(production_env(SECRET_KEY="env-value", SECRET_KEY_FILE=str(secret_file)))

    assert loaded["SECRET_KEY"] == "file-value-" + "f" * 40


def test_an_unreadable_secret_file_fails_with_a_clear_message(tmp_path):
    missing = tmp_path / "does-not-exist"

    error = settings_error(production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(missing)))

    assert f"SECRET_KEY_FILE={str(missing)!r} cannot be read" in error


def test_several_encryption_keys_are_kept_newest_first():
    newest, older = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    loaded = load_settings(production_env(FIELD_ENCRYPTION_KEY=f"{newest}, {older}"))

    assert loaded["FIELD_ENCRYPTION_KEYS"] == [newest, older]


def test_without_database_url_sqlite_is_used_with_immediate_transactions():
    loaded = load_settings(production_env(DATABASE_URL=None))

    assert loaded["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["DATABASE"]["NAME"].endswith("jelly.sqlite3")
    assert loaded["DATABASE"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_selects_postgres_without_sqlite_options():
    loaded = load_settings(production_env())

    assert loaded["DATABASE"]["ENGINE"] == "django.db.backends.postgresql"
    assert "transaction_mode" not in loaded["DATABASE"].get("OPTIONS", {})


def test_postgres_statements_are_bound_by_the_server_and_prepared_by_default():
    options = load_settings(production_env())["DATABASE"]["OPTIONS"]

    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler():
    options = load_settings(production_env(DATABASE_PREPARED_STATEMENTS="false"))["DATABASE"].get("OPTIONS", {})

    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_without_a_broker_tasks_run_eagerly():
    loaded = load_settings(production_env())

    assert loaded["CELERY_BROKER_URL"] == ""
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is True


def test_with_a_broker_tasks_are_queued():
    loaded = load_settings(production_env(CELERY_BROKER_URL="redis://127.0.0.1:6379/0"))

    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False


def test_times_are_uk_local_and_timezone_aware():
    loaded = load_settings(production_env())

    assert loaded["TIME_ZONE"] == "Europe/London"
    assert loaded["USE_TZ"] is True


def test_transport_security_is_on_by_default_in_production():
    loaded = load_settings(production_env())

    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_HSTS_SECONDS"] == 31_536_000


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("SECURE_SSL_REDIRECT", "false", False),
        ("SESSION_COOKIE_SECURE", "no", False),
        ("CSRF_COOKIE_SECURE", "0", False),
        ("SECURE_HSTS_SECONDS", "3600", 3600),
    ],
)
def test_each_transport_setting_can_be_overridden_from_the_environment(name, raw, expected):
    loaded = load_settings(production_env(**{name: raw}))

    assert loaded[name] == expected
    others = {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"} - {name}
    assert all(loaded[other] is True for other in others)


def test_deploy_check_is_clean_with_production_values():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_deploy_check_reports_a_turned_off_ssl_redirect():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(SECURE_SSL_REDIRECT="false"),
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr


class TestResponseHeaders:
    def test_pages_carry_a_content_security_policy_without_inline_script(self, client):
        response = client.get("/accounts/login/")

        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy

    def test_pages_cannot_be_framed_or_sniffed(self, client):
        response = client.get("/accounts/login/")

        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"

    def test_api_errors_carry_the_same_headers(self, client, db):
        response = client.get("/api/v1/me/")

        assert response.status_code == 401
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
