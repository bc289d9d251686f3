"""Jelly settings: every value is read once, here, from the environment.

Production differs from development only by environment values. `DEBUG` defaults to off, and
with it off the settings are production-hard (`manage.py check --deploy` prints nothing).
Every secret may also come from a file named by `NAME_FILE` (Docker/Kubernetes secrets).
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return env.str(name, default=default)


def boolean(name: str, default: bool) -> bool:
    """A boolean is true or false (1/0, yes/no, on/off); anything else fails at start."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def integer(name: str, default: int) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def site_address(name: str, raw: str) -> str:
    """An http(s) scheme and host (and port), nothing more: a trailing slash is dropped; a path,
    query, fragment or login fails at start."""
    value = raw.strip()
    malformed = f"{name} must be an http(s) URL with a host, e.g. https://jelly.example.com, not {raw!r}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:  # an unclosed "[", or a port that is not a number up to 65535
        raise ImproperlyConfigured(malformed) from exc
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or port == 0
        or not re.fullmatch(r"[a-z0-9][a-z0-9.\-]*|[0-9a-f:.]+", host)
    ):
        raise ImproperlyConfigured(malformed)
    if parts.path not in ("", "/") or "?" in value or "#" in value or "@" in parts.netloc:
        raise ImproperlyConfigured(f"{name} must be a scheme and host only (no path, query or login), not {raw!r}")
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")


DEBUG = boolean("DEBUG", False)

SECRET_KEY = secret("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (or SECRET_KEY_FILE).")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where staff reach Jelly, e.g. https://jelly.example-clinic.co.uk: links in email are built on
# it (`core.links`), because an email is often sent by a worker with no request to read a host
# from. Scheme and host only; Jelly is served at the root of it.
SITE_URL = env.str("SITE_URL", default="")
if not SITE_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SITE_URL must be set when DEBUG is off (where staff reach Jelly, e.g. https://jelly.example.com)."
        )
    SITE_URL = "http://127.0.0.1:8000"
SITE_URL = site_address("SITE_URL", SITE_URL)

# Fernet keys, newest first; older keys still decrypt so they can be rotated out.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in (secret("FIELD_ENCRYPTION_KEY") or "").split(",") if key.strip()]
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be set when DEBUG is off (Fernet key(s), comma-separated)."
        )
    # A fixed development key: anything encrypted with it is demo data only.
    FIELD_ENCRYPTION_KEYS = ["mIoG5qjXK0kjmtUfrtlnA5hRqUZ1IvamDOXjdvhNt3A="]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "core",
    "patients",
    "diary",
    "privacy",
    "integrations",
    "integrations.google",
    "integrations.zoom",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.OrganisationMiddleware",
    "core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jelly.urls"
WSGI_APPLICATION = "jelly.wsgi.application"
ASGI_APPLICATION = "jelly.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.organisation",
            ],
        },
    },
]

# Database: DATABASE_URL, or a SQLite file for `make run`.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'jelly.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers queue instead of
    # one failing half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"]["CONN_MAX_AGE"] = integer("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if boolean("DATABASE_PREPARED_STATEMENTS", True):
        # Parameters bound by the server, and a statement run a few times on a connection is
        # prepared once: PostgreSQL then skips parsing and planning it. Turn off behind a
        # pooler that hands one session's statements to different server connections.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.Staff"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username/IP before a password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures, per username and IP together, so one attacker cannot lock
# every account of a clinic from one address and a shared clinic IP does not lock everyone out.
AXES_FAILURE_LIMIT = integer("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=integer("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = integer("AXES_PROXY_COUNT", 0)

# Idle timeout: the session expires after this long without a request.
SESSION_IDLE_TIMEOUT_MINUTES = integer("SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# New organisations require TOTP for all staff unless this says otherwise (demo data opts out).
TWO_FACTOR_REQUIRED_BY_DEFAULT = boolean("TWO_FACTOR_REQUIRED_BY_DEFAULT", not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Jelly")

# Security headers. Each transport setting can be turned off from the environment when TLS is
# terminated elsewhere or when running locally over plain HTTP.
SECURE_SSL_REDIRECT = boolean("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = boolean("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = boolean("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = integer("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = boolean("SECURE_HSTS_PRELOAD", True)
if boolean("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = integer("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = secret("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = boolean("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="jelly@localhost")

# A practitioner with an appointment with a patient in this many past months (or upcoming)
# has a direct care relationship with them (may read their clinical notes).
CARE_RELATIONSHIP_APPOINTMENT_MONTHS = integer("CARE_RELATIONSHIP_APPOINTMENT_MONTHS", 24)

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so an API client without credentials gets 401 with WWW-Authenticate.
        "core.api.authentication.ApiTokenAuthentication",
        "core.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.IsOrganisationStaff"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jelly API",
    "DESCRIPTION": "Practice management for UK health clinics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["core.api.permissions.IsOrganisationStaff"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. With no broker configured, tasks run eagerly (services enqueue them on commit).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = boolean("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = integer("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# Redis redelivers an unacknowledged task after the visibility timeout; it must exceed the
# longest task or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 4}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request bodies and headers are never logged; Django's own error mails are off.
        "django.request": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
ADMINS: list = []

# --- Zoom ---------------------------------------------------------------------------------
# Jelly's Zoom Marketplace app (account-level OAuth, authorisation-code flow) and its webhook
# secret token. Defaults are Zoom's production endpoints; tests point them at a local fake.
# The revoke endpoint is derived from ZOOM_TOKEN_URL (…/oauth/token → …/oauth/revoke).
ZOOM_CLIENT_ID = env.str("ZOOM_CLIENT_ID", default="")
ZOOM_CLIENT_SECRET = secret("ZOOM_CLIENT_SECRET", default="")
ZOOM_AUTH_URL = env.str("ZOOM_AUTH_URL", default="https://zoom.us/oauth/authorize")
ZOOM_TOKEN_URL = env.str("ZOOM_TOKEN_URL", default="https://zoom.us/oauth/token")
ZOOM_API_BASE_URL = env.str("ZOOM_API_BASE_URL", default="https://api.zoom.us/v2")
ZOOM_WEBHOOK_SECRET_TOKEN = secret("ZOOM_WEBHOOK_SECRET_TOKEN", default="")
# Every call to Zoom gives up after this many seconds (connect and read each).
ZOOM_HTTP_TIMEOUT_SECONDS = integer("ZOOM_HTTP_TIMEOUT_SECONDS", 10)
if ZOOM_CLIENT_ID and not (ZOOM_CLIENT_SECRET and ZOOM_WEBHOOK_SECRET_TOKEN):
    raise ImproperlyConfigured(
        "ZOOM_CLIENT_SECRET and ZOOM_WEBHOOK_SECRET_TOKEN (or their _FILE) must be set with ZOOM_CLIENT_ID."
    )
for _zoom_url in ("ZOOM_AUTH_URL", "ZOOM_TOKEN_URL", "ZOOM_API_BASE_URL"):
    if not str(globals()[_zoom_url]).startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"{_zoom_url} must be an http(s) URL, not {globals()[_zoom_url]!r}")
if ZOOM_HTTP_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("ZOOM_HTTP_TIMEOUT_SECONDS must be a positive number of seconds.")
# Re-queue Zoom webhook deliveries whose task was lost, and prune the delivery ledger.
CELERY_BEAT_SCHEDULE["zoom-sweep-webhook-deliveries"] = {
    "task": "integrations.zoom.tasks.sweep_webhook_deliveries",
    "schedule": 10 * 60,
}
# Re-mark Zoom meetings that drifted from their appointments (Zoom itself is not read).
CELERY_BEAT_SCHEDULE["zoom-reconcile-meetings"] = {
    "task": "integrations.zoom.tasks.reconcile_zoom_meetings",
    "schedule": 60 * 60,
}

# --- Google (Calendar and Gmail send) -----------------------------------------------------
# Jelly's OAuth client from the Google Cloud console (type "Web application"); register the
# redirect URI https://<your host>/integrations/google/callback/. Endpoints default to Google's;
# tests and operators may point them at a fake or a proxy (integrations/google/oauth.py).
GOOGLE_OAUTH_CLIENT_ID = env.str("GOOGLE_OAUTH_CLIENT_ID", default="")
GOOGLE_OAUTH_CLIENT_SECRET = secret("GOOGLE_OAUTH_CLIENT_SECRET", default="")
GOOGLE_AUTH_URI = env.str("GOOGLE_AUTH_URI", default="https://accounts.google.com/o/oauth2/auth")
GOOGLE_TOKEN_URI = env.str("GOOGLE_TOKEN_URI", default="https://oauth2.googleapis.com/token")
GOOGLE_REVOKE_URI = env.str("GOOGLE_REVOKE_URI", default="https://oauth2.googleapis.com/revoke")
# The API root. The client library's `api_endpoint` replaces rootUrl + servicePath, so Jelly
# appends each API's path itself: Calendar at <root>calendar/v3/, Gmail at <root>gmail/v1/...
# Left at Google's default, each API keeps the host its bundled discovery document names.
GOOGLE_API_ENDPOINT = env.str("GOOGLE_API_ENDPOINT", default="https://www.googleapis.com/")
# Every call to Google (token, revoke, API) gives up after this many seconds.
GOOGLE_HTTP_TIMEOUT_SECONDS = integer("GOOGLE_HTTP_TIMEOUT_SECONDS", 10)
if GOOGLE_OAUTH_CLIENT_ID and not GOOGLE_OAUTH_CLIENT_SECRET:
    raise ImproperlyConfigured("GOOGLE_OAUTH_CLIENT_SECRET (or _FILE) must be set with GOOGLE_OAUTH_CLIENT_ID.")
for _name, _url in {
    "GOOGLE_AUTH_URI": GOOGLE_AUTH_URI,
    "GOOGLE_TOKEN_URI": GOOGLE_TOKEN_URI,
    "GOOGLE_REVOKE_URI": GOOGLE_REVOKE_URI,
    "GOOGLE_API_ENDPOINT": GOOGLE_API_ENDPOINT,
}.items():
    if not _url.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"{_name} must be an http(s) URL, not {_url!r}")
if not GOOGLE_API_ENDPOINT.endswith("/"):
    GOOGLE_API_ENDPOINT += "/"
if GOOGLE_HTTP_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("GOOGLE_HTTP_TIMEOUT_SECONDS must be a positive number of seconds.")
# requests-oauthlib logs tokens, codes and client secrets at DEBUG; keep it quiet whatever LOG_LEVEL.
LOGGING["loggers"].update({"requests_oauthlib": {"level": "WARNING"}, "oauthlib": {"level": "WARNING"}})

# --- Privacy ------------------------------------------------------------------------------
# Break-glass: how long a practitioner without a care relationship may read a patient's notes
# after stating a reason (audited, reviewed by the organisation's admin). The sharing rules
# themselves have no settings on purpose: organisations cannot loosen them.
BREAK_GLASS_MINUTES = integer("BREAK_GLASS_MINUTES", 30)
if not 1 <= BREAK_GLASS_MINUTES <= 24 * 60:
    raise ImproperlyConfigured("BREAK_GLASS_MINUTES must be between 1 and 1440 (one day).")

# --- Integrations (outbox, calendar sync, patient email) ----------------------------------
# Retry budget of an outbox row or an email: after this many failed attempts it is
# dead-lettered (shown on the sync health page and in admin, with a retry button). Between
# attempts: capped exponential backoff with jitter, from the base up to the cap (seconds).
# With the defaults a Google outage of about three hours is ridden out unattended.
INTEGRATIONS_OUTBOX_MAX_ATTEMPTS = integer("INTEGRATIONS_OUTBOX_MAX_ATTEMPTS", 12)
INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = integer("INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS", 15)
INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = integer("INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS", 1800)
# How long a worker holds a claimed row; a worker that dies releases it after this. Must exceed
# the longest push (a few calls of GOOGLE_HTTP_TIMEOUT_SECONDS each).
INTEGRATIONS_OUTBOX_LEASE_SECONDS = integer("INTEGRATIONS_OUTBOX_LEASE_SECONDS", 300)
# Threads pushing side by side in one sweep or `drain_outbox` run (each with its own client).
INTEGRATIONS_DRAIN_WORKERS = integer("INTEGRATIONS_DRAIN_WORKERS", 4)
if INTEGRATIONS_OUTBOX_MAX_ATTEMPTS < 1 or INTEGRATIONS_DRAIN_WORKERS < 1:
    raise ImproperlyConfigured("INTEGRATIONS_OUTBOX_MAX_ATTEMPTS and INTEGRATIONS_DRAIN_WORKERS must be at least 1.")
if not 0 < INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS <= INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS:
    raise ImproperlyConfigured("INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS must be positive and at most the cap.")
# No call starts unless it can end before the lease does, with time to spare for recording its
# outcome: one timeout plus five seconds, so a busy worker that stalls between a provider's
# answer and writing it down still does so inside its lease (after the lease another worker may
# push the same row, and a create recorded by neither would be left in the provider).
INTEGRATIONS_OUTBOX_LEASE_MARGIN_SECONDS = max(GOOGLE_HTTP_TIMEOUT_SECONDS, ZOOM_HTTP_TIMEOUT_SECONDS) + 5
if INTEGRATIONS_OUTBOX_LEASE_SECONDS <= 2 * INTEGRATIONS_OUTBOX_LEASE_MARGIN_SECONDS:
    raise ImproperlyConfigured(
        "INTEGRATIONS_OUTBOX_LEASE_SECONDS must be more than twice the longest HTTP timeout plus five seconds."
    )
from celery.schedules import crontab  # noqa: E402 - only the beat schedule below needs it

# The sweeper pushes whatever a lost task left behind; reconcile runs nightly; reminders are
# recorded every ten minutes (each organisation chooses how many hours before).
CELERY_BEAT_SCHEDULE["integrations-sweep-outbox"] = {"task": "integrations.tasks.sweep_outbox", "schedule": 60}
CELERY_BEAT_SCHEDULE["integrations-reconcile-google-calendar"] = {
    "task": "integrations.tasks.reconcile_google_calendar",
    "schedule": crontab(hour=2, minute=30),
}
CELERY_BEAT_SCHEDULE["integrations-send-due-reminders"] = {
    "task": "integrations.tasks.send_due_reminders",
    "schedule": 10 * 60,
}
# Each organisation's audit chain head goes to the log (logger jelly.audit.anchor) hourly: kept
# outside the database, these lines show up a chain rewritten by someone who could write it.
CELERY_BEAT_SCHEDULE["privacy-log-audit-anchors"] = {"task": "privacy.tasks.log_audit_anchors", "schedule": 60 * 60}
