# The moderation service: SQLite on a volume, the shipped model, a non-root user.
#   docker build -t moderation .
#   docker run -p 8080:8080 -v moderation-data:/var/lib/moderation moderation
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY moderation ./moderation
RUN python3 -m venv /opt/moderation \
 && /opt/moderation/bin/pip install --no-cache-dir .

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --home-dir /var/lib/moderation --create-home moderation
COPY --from=build /opt/moderation /opt/moderation
COPY models /opt/moderation-models
ENV PATH=/opt/moderation/bin:$PATH \
    MODERATION_DATABASE_URL=sqlite:////var/lib/moderation/moderation.db \
    MODERATION_MODEL_DIR=/opt/moderation-models \
    MODERATION_HOST=0.0.0.0 \
    MODERATION_PORT=8080
USER moderation
WORKDIR /var/lib/moderation
VOLUME ["/var/lib/moderation"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4).status != 200)"]
CMD ["moderation", "serve"]
