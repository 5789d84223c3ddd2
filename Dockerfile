# syntax=docker/dockerfile:1
# The moderation service: SQLite on a volume, the shipped model, a non-root user.
#   docker build -t moderation .
#   docker run -p 8080:8080 -v moderation-data:/var/lib/moderation moderation
#
# Behind a TLS-inspecting proxy or with a private package index, give pip what
# it needs as BuildKit secrets: they are mounted for the install step only and
# never stored in a layer.
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt .   # CA bundle for the index
#   docker build --secret id=pipconf,src=$HOME/.config/pip/pip.conf .       # index URL, credentials
# scripts/docker-smoke.sh builds and runs it on a machine with no registry.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY moderation ./moderation
RUN --mount=type=secret,id=ca,required=false \
    --mount=type=secret,id=pipconf,required=false \
    python3 -m venv /opt/moderation \
 && if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi \
 && /opt/moderation/bin/pip install --no-cache-dir --disable-pip-version-check . \
 && /opt/moderation/bin/python -c "import moderation.app"

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --home-dir /var/lib/moderation --create-home moderation
COPY --from=build /opt/moderation /opt/moderation
COPY models /opt/moderation-models
ENV PATH=/opt/moderation/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    MODERATION_DATABASE_URL=sqlite:////var/lib/moderation/moderation.db \
    MODERATION_MODEL_DIR=/opt/moderation-models \
    MODERATION_HOST=0.0.0.0 \
    MODERATION_PORT=8080 \
    MODERATION_LOG_FORMAT=json
USER moderation
WORKDIR /var/lib/moderation
VOLUME ["/var/lib/moderation"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["python3", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('MODERATION_PORT', '8080'), timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
CMD ["moderation", "serve"]
