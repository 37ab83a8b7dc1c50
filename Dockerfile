# syntax=docker/dockerfile:1
# Expo Judge production image:  docker build -t expo-judge .
# Runs gunicorn on $PORT (8000) as a non-root user. Needs SECRET_KEY, DATABASE_URL and PUBLIC_BASE_URL
# at run time; migrations run with `expo init-db` (compose.yaml and deploy/k8s/ do it for you).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtualenv with the pinned dependencies and the app ----------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app

# Dependencies first, in their own layer (rebuilt only when pyproject.toml or constraints.txt change):
# the runtime dependencies of pyproject.toml, not the test extra, at the versions of constraints.txt.
COPY pyproject.toml constraints.txt ./
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
        > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt

# The app. It is installed in editable mode on purpose: expo_app finds templates/, static/ and
# migrations/ next to its package directory (PROJECT_ROOT), so the code runs from /app.
COPY README.md config.py wsgi.py gunicorn.conf.py ./
COPY expo_app ./expo_app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip install --no-deps -c constraints.txt -e . \
 && python -m compileall -q /app/expo_app /app/migrations /app/config.py /app/wsgi.py /app/gunicorn.conf.py \
 && python -m compileall -q /opt/venv

# ---- runtime -----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# WeasyPrint 70's system libraries (Pango with its FreeType back end, HarfBuzz and its subsetter,
# fontconfig) and the fonts printed names need: Noto for Latin, Greek, Cyrillic, Arabic... (core) and
# Chinese, Japanese, Korean (cjk), DejaVu as the fallback. fc-cache builds the system font cache now,
# so a read-only root file system never needs to write one. Not pinned to Debian versions on purpose:
# each build takes bookworm's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fontconfig \
        fonts-noto-core fonts-noto-cjk fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && fc-cache -f

# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can check it. The instance folder is the only
# place the app may write (EXPO_INSTANCE_PATH); everything else stays owned by root.
RUN groupadd --system --gid 10001 expo \
 && useradd --system --uid 10001 --gid expo --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin expo \
 && install -d -o expo -g expo -m 0750 /var/lib/expo-judge

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

# HOME and caches in /tmp, the one writable place besides the instance folder (gunicorn puts its
# control socket in ~/.gunicorn unless gunicorn.conf.py disables it).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    EXPO_ENV=production \
    EXPO_INSTANCE_PATH=/var/lib/expo-judge \
    PORT=8000

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# No curl in the slim image: Python's urllib. urlopen raises (exit 1) on a refused connection or any
# status >= 400. /healthz only says the process answers; /readyz (database and migrations) is for
# load balancers and Kubernetes' readiness probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
