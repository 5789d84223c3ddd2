#!/usr/bin/env bash
# Build the service image and smoke-test it, on a machine with no container
# registry (Debian packages and PyPI only), as root:
#
#   1. install docker.io and debootstrap from Debian's packages (if missing);
#   2. start a private dockerd (--bridge=none --iptables=false: containers use
#      the host's network) on its own socket, unless one of ours is running;
#   3. build a Debian bookworm base image with debootstrap (python3, venv,
#      CA certificates) and `docker import` it, since no registry can be pulled
#      from; cached in the state directory between runs;
#   4. build our Dockerfile with --network host and BASE_IMAGE=that image; pip
#      gets the host's CA bundle as a BuildKit secret, never a layer;
#   5. run it (host network, a free port, a named volume), wait for /readyz and
#      the HEALTHCHECK, create a site, POST a comment, scrape /metrics, check
#      it runs as non-root with no build secret left, stop it (exit code 0);
#   6. remove the container and volume, and stop the dockerd it started.
#
# Exit 0 when all of that worked. Idempotent; every step has a time limit.
# State (dockerd's data, the base image) lives in $DOCKER_SMOKE_DIR
# (default /var/tmp/moderation-docker-smoke); `--purge` deletes it and exits.
# Takes about 3 minutes the first time on 2 cores, about 1 minute after.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${DOCKER_SMOKE_DIR:-/var/tmp/moderation-docker-smoke}
SOCKET="$STATE/docker.sock"
BASE_IMAGE=moderation-smoke-base:bookworm
IMAGE=moderation:smoke
CONTAINER=moderation-smoke
VOLUME=moderation-smoke-data
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export DOCKER_HOST="unix://$SOCKET" DOCKER_BUILDKIT=1
# Debian's client: it builds with the BuildKit inside dockerd (a newer client wants buildx).
DOCKER=/usr/bin/docker

say() { printf 'docker-smoke: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

if [ "${1:-}" = "--purge" ]; then
  rm -rf "$STATE"
  say "removed $STATE"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"
started=$(date +%s)

# 1. tools
if ! [ -x /usr/sbin/dockerd ] || ! [ -x "$DOCKER" ] || ! command -v debootstrap >/dev/null; then
  say "installing docker.io and debootstrap"
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq docker.io debootstrap >/dev/null
fi

# 2. dockerd
mkdir -p "$STATE"
dockerd_pid=""
cleanup() {
  local rc=$?
  "$DOCKER" rm -f "$CONTAINER" >/dev/null 2>&1 || true
  "$DOCKER" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$dockerd_pid" 2>/dev/null || true
    umount "$STATE/exec/netns/default" 2>/dev/null || true   # dockerd leaves this bind mount
  fi
  say "$([ $rc = 0 ] && echo passed || echo failed) in $(( $(date +%s) - started )) s"
}
trap cleanup EXIT
if ! timeout 10 "$DOCKER" info >/dev/null 2>&1; then
  if [ -f "$STATE/dockerd.pid" ] && ! kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null; then
    rm -f "$STATE/dockerd.pid"   # left by a dockerd that was killed
  fi
  rm -f "$SOCKET"
  say "starting dockerd (log: $STATE/dockerd.log)"
  dockerd --bridge=none --iptables=false --ip6tables=false --host="unix://$SOCKET" \
    --data-root="$STATE/data" --exec-root="$STATE/exec" --pidfile="$STATE/dockerd.pid" \
    >"$STATE/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do
    timeout 5 "$DOCKER" info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || { tail -20 "$STATE/dockerd.log" >&2; die "dockerd exited"; }
    sleep 1
  done
  timeout 5 "$DOCKER" info >/dev/null 2>&1 || die "dockerd did not answer in 60 s"
fi

# 3. base image
if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "building $BASE_IMAGE with debootstrap from $DEBIAN_MIRROR"
  rm -rf "$STATE/rootfs"
  timeout 900 debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$STATE/rootfs" "$DEBIAN_MIRROR" >"$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap"; }
  rm -rf "$STATE/rootfs/var/cache/apt/archives/"*.deb "$STATE/rootfs/var/lib/apt/lists/"*
  tar -C "$STATE/rootfs" -c . | timeout 300 "$DOCKER" import - "$BASE_IMAGE" >/dev/null
  rm -rf "$STATE/rootfs"
fi

# 4. our image. The Dockerfile's `# syntax=` line makes BuildKit fetch its
# frontend from Docker Hub; with no registry, use the one built into dockerd.
ca=""
for candidate in "${PIP_CERT:-}" "${REQUESTS_CA_BUNDLE:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -n "$candidate" ] && [ -s "$candidate" ]; then ca=$candidate; break; fi
done
secrets=()
[ -n "$ca" ] && secrets+=(--secret "id=ca,src=$ca")
index=$(python3 -m pip config get global.index-url 2>/dev/null || true)
if [[ "$index" == http* ]]; then   # a mirror configured on the host (file:// ones mean nothing in the build)
  printf '[global]\nindex-url = %s\n' "$index" >"$STATE/pip.conf"
  chmod 600 "$STATE/pip.conf"
  secrets+=(--secret "id=pipconf,src=$STATE/pip.conf")
fi
say "building $IMAGE (build log: $STATE/build.log)"
sed '1{/^# syntax=/d}' Dockerfile | timeout 1200 "$DOCKER" build -f - --network host "${secrets[@]}" \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" . >"$STATE/build.log" 2>&1 \
  || { tail -30 "$STATE/build.log" >&2; die "docker build"; }

# 5. run and check
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$DOCKER" rm -f "$CONTAINER" >/dev/null 2>&1 || true
"$DOCKER" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
"$DOCKER" run -d --name "$CONTAINER" --network host -e "MODERATION_PORT=$port" \
  --health-interval=2s -v "$VOLUME:/var/lib/moderation" "$IMAGE" >/dev/null
ready=""
for _ in $(seq 1 90); do
  if curl -fsS --max-time 2 "$base/readyz" >/dev/null 2>&1; then ready=yes; break; fi
  [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || break
  sleep 1
done
[ -n "$ready" ] || { "$DOCKER" logs "$CONTAINER" 2>&1 | tail -20 >&2; die "/readyz never answered 200"; }
say "ready: $(curl -fsS "$base/readyz")"
health=""
for _ in $(seq 1 60); do
  health=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$CONTAINER")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || die "HEALTHCHECK says $health"

[ "$("$DOCKER" exec "$CONTAINER" id -u)" != 0 ] || die "the service runs as root"
"$DOCKER" exec "$CONTAINER" sh -c 'test ! -e /run/secrets/ca && test ! -e /run/secrets/pipconf && test -z "${PIP_CERT:-}"' \
  || die "a build secret is left in the image"
key=$("$DOCKER" exec "$CONTAINER" moderation site add --name smoke --url https://blog.example --lang en --mode auto | tail -n 1)
answer=$(curl -sS --max-time 10 -w '\n%{http_code}' "$base/v1/comments" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"thread": {"id": "article-1", "url": "https://blog.example/article-1", "title": "Hello"},
       "author": {"name": "Jean", "email": "jean@example.fr"},
       "body": "Thanks for this article, very clear and well written."}')
code=${answer##*$'\n'}
[ "$code" = 201 ] || [ "$code" = 202 ] || die "POST /v1/comments answered $code: ${answer%$'\n'*}"
say "POST /v1/comments: $code ${answer%$'\n'*}"
# Read whole outputs first: with pipefail, `producer | grep -q` fails when grep
# stops reading early and the producer dies of SIGPIPE.
metrics=$(curl -fsS --max-time 5 "$base/metrics") || die "/metrics did not answer"
grep -q '^moderation_http_requests_total{.*route="post_comment"' <<<"$metrics" \
  || die "/metrics does not count the POST"
container_log=$("$DOCKER" logs "$CONTAINER" 2>&1)
grep -q '"route": "post_comment"' <<<"$container_log" || die "no JSON access log line for the POST"

timeout 60 "$DOCKER" stop -t 30 "$CONTAINER" >/dev/null
exit_code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$CONTAINER")
[ "$exit_code" = 0 ] || die "the service exited with $exit_code on SIGTERM"
say "stopped cleanly"
