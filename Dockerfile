# One image for every Jelly process: web (gunicorn), worker and beat (celery), migrate.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# collectstatic imports the production settings, which refuse to start without a SECRET_KEY,
# a FIELD_ENCRYPTION_KEY and a SITE_URL. These placeholders are set for that one step only; they
# never reach the image's environment, and the real values come from the environment at run time.
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-only-placeholder-never-used-to-sign-anything
ARG COLLECTSTATIC_FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
RUN DEBUG=false \
    SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" \
    FIELD_ENCRYPTION_KEY="$COLLECTSTATIC_FIELD_ENCRYPTION_KEY" \
    SITE_URL=http://collectstatic.invalid \
    python manage.py collectstatic --no-input --verbosity 0

# Run as an unprivileged user; the code and static files stay owned by root (read-only).
RUN useradd --system --no-create-home --shell /usr/sbin/nologin jelly
USER jelly

EXPOSE 8000
CMD ["gunicorn", "jelly.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
