"""The Zoom settings: Zoom's endpoints by default, secrets from NAME or NAME_FILE, clear errors."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[3]

DUMP = """
import json
from jelly import settings as s
print(json.dumps({name: getattr(s, name) for name in dir(s) if name.startswith("ZOOM_")}))
"""


def load(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "HOME": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", DUMP], cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=60
    )


def test_the_defaults_are_zooms_endpoints(tmp_path):
    result = load(tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ZOOM_API_BASE_URL": "https://api.zoom.us/v2",
        "ZOOM_AUTH_URL": "https://zoom.us/oauth/authorize",
        "ZOOM_CLIENT_ID": "",
        "ZOOM_CLIENT_SECRET": "",
        "ZOOM_HTTP_TIMEOUT_SECONDS": 10,
        "ZOOM_TOKEN_URL": "https://zoom.us/oauth/token",
        "ZOOM_WEBHOOK_SECRET_TOKEN": "",
    }


def test_secrets_may_come_from_files(tmp_path):
    (tmp_path / "client_secret").write_text("from-a-file\n")
    (tmp_path / "webhook_secret").write_text("webhook-from-a-file\n")

    result = load(
        tmp_path,
        ZOOM_CLIENT_ID="client",
        ZOOM_CLIENT_SECRET_FILE=str(tmp_path / "client_secret"),
        ZOOM_WEBHOOK_SECRET_TOKEN_FILE=str(tmp_path / "webhook_secret"),
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert (loaded["ZOOM_CLIENT_SECRET"], loaded["ZOOM_WEBHOOK_SECRET_TOKEN"]) == ("from-a-file", "webhook-from-a-file")


def test_a_client_id_without_its_secrets_fails_at_start(tmp_path):
    result = load(tmp_path, ZOOM_CLIENT_ID="client", ZOOM_CLIENT_SECRET="secret")

    assert result.returncode != 0
    assert "ZOOM_WEBHOOK_SECRET_TOKEN" in result.stderr


def test_a_malformed_timeout_or_url_fails_at_start(tmp_path):
    for env, message in [
        ({"ZOOM_HTTP_TIMEOUT_SECONDS": "soon"}, "ZOOM_HTTP_TIMEOUT_SECONDS must be a whole number"),
        ({"ZOOM_HTTP_TIMEOUT_SECONDS": "0"}, "ZOOM_HTTP_TIMEOUT_SECONDS must be a positive"),
        ({"ZOOM_API_BASE_URL": "api.zoom.us/v2"}, "ZOOM_API_BASE_URL must be an http(s) URL"),
    ]:
        result = load(tmp_path, **env)
        assert result.returncode != 0
        assert message in result.stderr
