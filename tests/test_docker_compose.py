"""docker-compose.yml and the Dockerfile agree with each other and with jelly/settings.py.

Docker does not run here, so these read the files: the services, their commands, health
checks and start order, and the environment handed to Jelly, which is also fed to the real
settings (in a fresh interpreter) to show it starts production-hard.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.urls import resolve

from tests.test_env_example import settings_env_reads

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = ["migrate", "web", "worker", "beat"]
LONG_RUNNING = ["postgres", "redis", "web", "worker", "beat"]
REQUIRED_APP_ENV = ["DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "SITE_URL"]
WEB_COMMAND = ["gunicorn", "jelly.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def interpolate(value: str, host_env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` and `$$`, for these tests."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        current = host_env.get(name, "")
        if operator in (":?", "?") and not current:
            raise ValueError(f"{name}: {argument}")
        return current or (argument if operator in (":-", "-") else "")

    return INTERPOLATION.sub(replace, value)


def image_major(image: str, name: str) -> int:
    match = re.fullmatch(rf"{name}:(\d+)(?:[.\-].*)?", image)
    assert match, f"{image!r} does not pin a major version of {name}"
    return int(match.group(1))


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def healthcheck_text(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_the_stack_has_exactly_the_expected_services(services):
    assert sorted(services) == ["beat", "migrate", "postgres", "redis", "web", "worker"]


def test_postgres_is_major_version_16_with_a_volume(services, compose):
    postgres = services["postgres"]

    assert image_major(postgres["image"], "postgres") == 16
    volume, _, mount = postgres["volumes"][0].partition(":")
    assert mount == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]


def test_redis_is_major_version_7_and_keeps_queued_tasks(services, compose):
    redis = services["redis"]

    assert image_major(redis["image"], "redis") == 7
    assert "--appendonly" in redis["command"]
    volume, _, mount = redis["volumes"][0].partition(":")
    assert (mount, volume in compose["volumes"]) == ("/data", True)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_jelly_services_run_the_image_built_from_the_dockerfile(services, name):
    service = services[name]

    assert service["build"] == "."
    assert service["image"] == services["web"]["image"]
    assert DOCKERFILE.is_file()


def test_commands_start_the_right_processes(services):
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert services["web"]["command"] == WEB_COMMAND
    assert services["worker"]["command"][:6] == ["celery", "-A", "jelly", "worker", "-l", "info"]
    assert services["beat"]["command"][:6] == ["celery", "-A", "jelly", "beat", "-l", "info"]
    assert (ROOT / "jelly" / "celery.py").is_file()
    assert "application = get_wsgi_application()" in (ROOT / "jelly" / "wsgi.py").read_text()


def test_web_publishes_the_port_gunicorn_binds(services):
    bind = services["web"]["command"][services["web"]["command"].index("--bind") + 1]
    published = [port.rsplit(":", 1)[-1] for port in services["web"]["ports"]]

    assert bind.rsplit(":", 1)[-1] in published
    assert "ports" not in services["postgres"]
    assert "ports" not in services["redis"]


@pytest.mark.parametrize("name", ["web", "worker", "beat", "migrate"])
@pytest.mark.parametrize("variable", REQUIRED_APP_ENV)
def test_jelly_services_get_each_required_variable(services, name, variable):
    environment = services[name]["environment"]

    assert environment.get(variable), f"{name} lacks {variable}"


@pytest.mark.parametrize("variable", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "SITE_URL"])
def test_secrets_and_the_site_url_come_from_the_host_and_compose_refuses_to_start_without_them(services, variable):
    environment = services["web"]["environment"]

    assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", environment[variable])
    with pytest.raises(ValueError, match=variable):
        interpolate(environment[variable], {})


def test_database_url_names_the_postgres_service_and_its_credentials(services):
    postgres_env = services["postgres"]["environment"]
    host_env = {"POSTGRES_PASSWORD": "pw123"}
    url = interpolate(services["web"]["environment"]["DATABASE_URL"], host_env)

    assert url == (
        f"postgres://{postgres_env['POSTGRES_USER']}:{interpolate(postgres_env['POSTGRES_PASSWORD'], host_env)}"
        f"@postgres:5432/{postgres_env['POSTGRES_DB']}"
    )


def test_the_broker_is_the_redis_service(services):
    assert re.fullmatch(r"redis://redis:6379/\d+", services["web"]["environment"]["CELERY_BROKER_URL"])


def test_every_jelly_service_gets_the_same_environment(services):
    web = services["web"]["environment"]

    assert [name for name in APP_SERVICES if services[name]["environment"] != web] == []
    assert web["DEBUG"] == "false"


def test_web_is_given_only_variables_settings_read(services):
    passed = set(services["web"]["environment"])

    assert sorted(passed - set(settings_env_reads())) == []


def test_string_defaults_in_compose_match_the_production_defaults_in_settings(services):
    """An empty string would replace a string setting's default, so compose repeats it."""
    reads = settings_env_reads()
    mismatched = {}
    for name, value in services["web"]["environment"].items():
        match = re.fullmatch(r"\$\{(\w+):-([^}]*)\}", value)
        read = reads.get(name)
        if not match or read is None or read.reader not in ("env.str", "secret"):
            continue
        default = read.default
        if isinstance(default, ast.IfExp) and ast.unparse(default.test) == "DEBUG":
            default = default.orelse  # compose runs with DEBUG=false
        expected = ast.literal_eval(default) if default is not None else None
        if match.group(2) != expected:
            mismatched[name] = (match.group(2), expected)

    assert mismatched == {}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_health_check(services, name):
    test = services[name]["healthcheck"]["test"]

    assert test[0] in ("CMD", "CMD-SHELL")
    assert len(" ".join(test[1:])) > 10


def test_the_one_shot_migrate_is_not_restarted_and_has_no_health_check(services):
    assert services["migrate"]["restart"] == "no"
    assert "healthcheck" not in services["migrate"]


def test_each_health_check_probes_what_its_service_does(services):
    assert "pg_isready" in healthcheck_text(services["postgres"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "inspect ping -d celery@$$HOSTNAME" in healthcheck_text(services["worker"])
    beat_pidfile = services["beat"]["command"][services["beat"]["command"].index("--pidfile") + 1]
    assert beat_pidfile in healthcheck_text(services["beat"])
    assert "ensure_connection" in healthcheck_text(services["beat"])


def test_web_health_check_uses_python_against_a_real_healthz_route(services):
    check = healthcheck_text(services["web"])
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)['\"]", check)

    assert services["web"]["healthcheck"]["test"][:2] == ["CMD", "python"]
    assert "curl" not in check
    assert "urllib.request.urlopen" in check
    assert url.group(1) == "8000"
    assert resolve(url.group(2)).url_name == "healthz"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_processes_wait_for_healthy_backends_and_finished_migrations(services, name):
    assert services[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_migrate_waits_for_a_healthy_database(services):
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_every_service_waited_on_for_health_has_a_health_check(services):
    unchecked = [
        (name, target)
        for name, service in services.items()
        for target, condition in service.get("depends_on", {}).items()
        if condition["condition"] == "service_healthy" and "healthcheck" not in services[target]
    ]

    assert unchecked == []


def test_compose_environment_starts_the_real_settings_production_hard(services):
    host_env = {
        "SECRET_KEY": "compose-test-" + "q8Zr4Lm2Xv7Tn5Kp" * 4,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "POSTGRES_PASSWORD": "pw123",
        "ALLOWED_HOSTS": "jelly.example",
        "SITE_URL": "https://jelly.example/",
    }
    environment = {name: interpolate(value, host_env) for name, value in services["web"]["environment"].items()}
    dump = (
        "import json; from django.conf import settings as s; s.DEBUG; print(json.dumps({"
        "'debug': s.DEBUG, 'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
        "'db': [s.DATABASES['default']['HOST'], s.DATABASES['default']['NAME']],"
        "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'tz': s.TIME_ZONE, 'hosts': s.ALLOWED_HOSTS,"
        "'axes': s.AXES_FAILURE_LIMIT, 'idle': s.SESSION_IDLE_TIMEOUT_MINUTES, 'site': s.SITE_URL}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", dump],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "jelly.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "debug": False,
        "ssl": True,
        "hsts": 31_536_000,
        "db": ["postgres", "jelly"],
        "eager": False,
        "tz": "Europe/London",
        "hosts": ["jelly.example"],
        "axes": 5,
        "idle": 30,
        "site": "https://jelly.example",
    }


def test_dockerfile_builds_the_python_the_project_requires():
    base = dict(dockerfile_instructions())["FROM"]
    requires = re.search(r'requires-python = ">=(\d+\.\d+)', (ROOT / "pyproject.toml").read_text()).group(1)

    assert base == f"python:{requires}-slim"


def test_dockerfile_cmd_is_the_compose_web_command(services):
    cmd = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]

    assert len(cmd) == 1
    assert json.loads(cmd[0]) == services["web"]["command"]


def test_dockerfile_installs_requirements_and_collects_static_with_placeholders_only_for_that_step():
    instructions = dockerfile_instructions()
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    collectstatic = next(run for run in runs if "collectstatic" in run)
    args = dict(rest.split("=", 1) for keyword, rest in instructions if keyword == "ARG")

    assert any("pip install -r requirements.txt" in run for run in runs)
    assert "DEBUG=false" in collectstatic
    assert 'SECRET_KEY="$COLLECTSTATIC_SECRET_KEY"' in collectstatic
    assert 'FIELD_ENCRYPTION_KEY="$COLLECTSTATIC_FIELD_ENCRYPTION_KEY"' in collectstatic
    assert re.search(r"\bSITE_URL=https?://\S+", collectstatic)
    Fernet(args["COLLECTSTATIC_FIELD_ENCRYPTION_KEY"].encode())
    # The placeholders never become the image's environment, where they would outlive the build.
    assert not any(k in ("ENV", "ARG") and re.match(r"(SECRET_KEY|FIELD_ENCRYPTION_KEY)\b", r) for k, r in instructions)


def test_dockerfile_runs_as_an_unprivileged_user():
    users = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]

    assert users and users[-1] not in ("root", "0")


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set(DOCKERIGNORE.read_text().split())

    assert {".env", ".git", ".venv", "var", "staticfiles"} <= ignored
