# The lurescan scoring API (no torch): `docker build -t lurescan-api .`
#
#   docker run -p 8000:8000 -v lurescan-data:/data \
#     -v $PWD/keys.json:/run/secrets/lurescan-keys.json:ro \
#     -e LURESCAN_API_KEYS_FILE=/run/secrets/lurescan-keys.json lurescan-api
#
# It binds 0.0.0.0, so open mode is off and API keys are required (create them with
# `lurescan keys create NAME --file keys.json`). Feedback goes to SQLite in the /data
# volume unless LURESCAN_DATABASE_URL names PostgreSQL; LURESCAN_REDIS_URL shares rate
# limits between replicas; LURESCAN_BUNDLE_PATH serves another bundle (mount it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY lurescan ./lurescan
COPY model ./model
COPY bulk ./bulk
COPY training ./training
COPY serve ./serve
RUN pip install ".[serve,postgres,redis]" && rm -rf /src

RUN useradd --system --uid 10001 --create-home --home-dir /data lurescan
USER lurescan
WORKDIR /data
VOLUME /data

ENV LURESCAN_HOST=0.0.0.0 \
    LURESCAN_PORT=8000 \
    LURESCAN_WORKERS=2 \
    LURESCAN_DATABASE_URL=sqlite:////data/lurescan.sqlite3
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"LURESCAN_PORT\"]}/readyz', timeout=4)"

# SIGHUP reloads the bundle with a rolling restart of the workers; SIGTERM drains and stops.
CMD ["lurescan", "serve"]
