# One image for every Beat process: the API server, the workers, the assets worker, the
# migrations and the sandbox (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BEAT_HOME=/var/lib/beat

WORKDIR /src
COPY . .
RUN pip install . \
 && useradd --system --create-home --home-dir /home/beat beat \
 && mkdir -p "$BEAT_HOME" && chown beat "$BEAT_HOME"

USER beat
WORKDIR /home/beat
EXPOSE 8000
# Stops with SIGTERM like any Beat process: running tasks finish within WORKER_SHUTDOWN_GRACE.
STOPSIGNAL SIGTERM
CMD ["beat", "--help"]
