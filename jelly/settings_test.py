"""Settings for the test suite: the real settings with test-friendly environment defaults.

Tests run on real PostgreSQL and Redis; the values below are defaults only, so CI or a
developer can point DATABASE_URL / CELERY_BROKER_URL elsewhere.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-only-for-the-test-suite-0123456789abcdef")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "2p1o1fF1nA0bxQJ6S6u2rZkq0x8J2PGlV1xgq3GoZ1E=")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jelly")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SITE_URL", "https://jelly.example-clinic.test")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("TWO_FACTOR_REQUIRED_BY_DEFAULT", "false")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from jelly.settings import *  # noqa: F403

# Argon2 is deliberately slow; the suite hashes hundreds of passwords. One test checks Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Serve static files straight from the apps and static/ (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# One test database per test run, so runs side by side (developers, CI, benchmarks) never
# drop each other's database.
DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_jelly_{os.getpid()}"  # noqa: F405
# Close connections after each request so the live server's thread leaves none open at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
