#!/usr/bin/env bash
# Starts a throwaway Docker daemon for the tests that talk to a real daemon (test/integration/*.daemon.test.ts).
# Runs as root: installs Debian's docker.io when dockerd is missing, starts dockerd in the background with
# the vfs storage driver and no iptables/NAT changes (works inside a CI container without privileges for
# overlayfs or netfilter), waits until it answers, and prints the line to export:
#   export LLMSTACK_TEST_DOCKER_HOST=unix:///tmp/llmstack-dockerd/docker.sock
# The socket URL is also written to /tmp/llmstack-dockerd/host. Running it again while the daemon answers
# only prints the line. Stop it with: kill "$(cat /tmp/llmstack-dockerd/dockerd.pid)"
set -euo pipefail

DIR="${LLMSTACK_DOCKERD_DIR:-/tmp/llmstack-dockerd}"
SOCK="$DIR/docker.sock"
HOST="unix://$SOCK"
mkdir -p "$DIR"

if [ "$(id -u)" != 0 ]; then
  echo "start-dockerd.sh: run as root (dockerd needs it): sudo bash .ci/start-dockerd.sh" >&2
  exit 1
fi

# docker.io for the daemon; busybox-static gives the tests a static binary to `docker import` as an
# image (nothing can be pulled in CI).
if ! command -v dockerd >/dev/null 2>&1 || [ ! -x /bin/busybox ]; then
  echo "start-dockerd.sh: installing docker.io and busybox-static (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq docker.io busybox-static >&2
fi

if docker -H "$HOST" version >/dev/null 2>&1; then
  echo "$HOST" >"$DIR/host"
  echo "export LLMSTACK_TEST_DOCKER_HOST=$HOST"
  exit 0
fi

rm -f "$SOCK" "$DIR/dockerd.pid"
mkdir -p "$DIR/data" "$DIR/exec"
# --bridge=none: no default docker0 bridge. The stack's own user-defined bridge network still works (it
# needs the bridge kernel module and CAP_NET_ADMIN, not netfilter): containers reach each other by their
# aliases through the daemon's DNS, and a published port is served by docker-proxy without iptables.
nohup dockerd \
  --storage-driver=vfs \
  --iptables=false \
  --ip-masq=false \
  --bridge=none \
  --data-root "$DIR/data" \
  --exec-root "$DIR/exec" \
  -H "$HOST" \
  --pidfile "$DIR/dockerd.pid" \
  >"$DIR/dockerd.log" 2>&1 &

for _ in $(seq 1 60); do
  if docker -H "$HOST" version >/dev/null 2>&1; then
    echo "$HOST" >"$DIR/host"
    echo "export LLMSTACK_TEST_DOCKER_HOST=$HOST"
    exit 0
  fi
  sleep 1
done
echo "start-dockerd.sh: dockerd did not answer on $HOST within 60 s; its log ($DIR/dockerd.log) ends with:" >&2
tail -n 20 "$DIR/dockerd.log" >&2
exit 1
