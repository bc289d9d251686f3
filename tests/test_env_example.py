""".env.example (and README's configuration table) list exactly the variables jelly/settings.py
reads, so none of them can drift.

The names are read from settings.py's syntax tree: every call of `secret`, `boolean`,
`integer` or `env.<type>` whose first argument is a literal name. tests/test_docker_compose.py
reuses `settings_env_reads` to check the environment compose hands to Jelly.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "jelly" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
COMPOSE = ROOT / "docker-compose.yml"

# Helpers in settings.py that read one variable each (their own bodies read `name`).
READER_FUNCTIONS = {"secret", "boolean", "integer"}
# `NAME=value` sets a variable; `# NAME=value` shows its default.
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
README_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class EnvRead:
    name: str
    reader: str  # "secret", "boolean", "integer", "env.str", "env.list", "env.db", ...
    default: ast.expr | None


def _reader_of(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name) and func.id in READER_FUNCTIONS | {"env"}:
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env":
        return f"env.{func.attr}"
    return None


def _calls_outside_reader_functions(tree: ast.Module):
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in READER_FUNCTIONS:
            skip.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in skip and _reader_of(node):
            yield node


def settings_env_reads() -> dict[str, EnvRead]:
    """Every environment variable settings.py reads, by name."""
    reads = {}
    for call in _calls_outside_reader_functions(ast.parse(SETTINGS.read_text())):
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        default = next((kw.value for kw in call.keywords if kw.arg == "default"), None)
        if default is None and len(call.args) > 1:
            default = call.args[1]
        reads[first.value] = EnvRead(first.value, _reader_of(call), default)
    return reads


def env_example_lines() -> list[tuple[str, str, bool]]:
    """(name, value, is_set) for each variable line of .env.example."""
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            lines.append((match.group(2), match.group(3), match.group(1) is None))
    return lines


def secret_names() -> set[str]:
    return {read.name for read in settings_env_reads().values() if read.reader == "secret"}


def compose_variables() -> set[str]:
    return set(COMPOSE_VARIABLE.findall(COMPOSE.read_text()))


def test_the_parser_finds_each_kind_of_read_in_the_real_settings():
    reads = settings_env_reads()

    assert reads["SECRET_KEY"].reader == "secret"
    assert reads["FIELD_ENCRYPTION_KEY"].reader == "secret"
    assert reads["DEBUG"].reader == "boolean"
    assert reads["AXES_FAILURE_LIMIT"].reader == "integer"
    assert reads["ALLOWED_HOSTS"].reader == "env.list"
    assert reads["DATABASE_URL"].reader == "env.db"
    assert reads["TIME_ZONE"].reader == "env.str"
    assert ast.literal_eval(reads["TIME_ZONE"].default) == "Europe/London"
    assert len(reads) >= 30


def test_settings_read_the_environment_only_through_literal_names():
    """Otherwise a variable could be read without the parser (and .env.example) seeing it."""
    text = SETTINGS.read_text()
    tree = ast.parse(text)
    dynamic = [
        ast.unparse(call)
        for call in _calls_outside_reader_functions(tree)
        if not (call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str))
    ]

    assert dynamic == []
    assert "os.environ" not in text
    assert "getenv" not in text


def test_every_variable_settings_reads_is_in_env_example():
    documented = {name for name, _, _ in env_example_lines()}

    assert sorted(set(settings_env_reads()) - documented) == []


def test_every_secret_shows_its_file_variant():
    documented = {name for name, _, _ in env_example_lines()}

    assert sorted(f"{name}_FILE" for name in secret_names() if f"{name}_FILE" not in documented) == []


def test_env_example_lists_nothing_settings_or_compose_do_not_read():
    reads = set(settings_env_reads())
    allowed = reads | {f"{name}_FILE" for name in secret_names()} | (compose_variables() - reads)
    documented = {name for name, _, _ in env_example_lines()}

    assert sorted(documented - allowed) == []


def test_every_variable_docker_compose_interpolates_is_in_env_example():
    documented = {name for name, _, _ in env_example_lines()}

    assert sorted(compose_variables() - documented) == []


def test_each_variable_appears_once():
    names = [name for name, _, _ in env_example_lines()]

    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_env_example_ships_no_secret_values():
    secret_like = secret_names() | {"POSTGRES_PASSWORD"}
    filled = [name for name, value, is_set in env_example_lines() if name in secret_like and is_set and value]

    assert filled == []
    assert {name for name, _, is_set in env_example_lines() if is_set} >= {"SECRET_KEY", "FIELD_ENCRYPTION_KEY"}


def test_the_readme_configuration_table_lists_the_same_variables():
    rows = README_ROW.findall(README.read_text())

    assert sorted(rows) == sorted(set(rows))
    assert set(rows) == set(settings_env_reads())
