#!/bin/sh
# Entry point of every leadguard container (and of the Rasa container).
#
# 1. Secrets: every file /run/secrets/leadguard_<name> becomes the variable
#    LEADGUARD_<NAME> of this process only. Values never appear in the
#    compose file, `docker inspect` or the image. The key ring stays a file
#    (LEADGUARD_KEYRING_FILE points at it) and is not copied.
# 2. Metrics: each container writes prometheus_client's multiprocess files to
#    its own sub-directory of the shared metrics volume (process ids repeat
#    across containers); the console's /metrics sums all of them.
set -eu

SECRETS_DIR="${LEADGUARD_SECRETS_DIR:-/run/secrets}"
if [ -d "$SECRETS_DIR" ]; then
  for file in "$SECRETS_DIR"/leadguard_*; do
    [ -f "$file" ] || continue
    name=$(basename "$file" | tr '[:lower:]' '[:upper:]')
    case "$name" in
      LEADGUARD_KEYRING) continue ;;
    esac
    value=$(cat "$file")
    export "$name=$value"
  done
fi

if [ -n "${LEADGUARD_METRICS_ROOT:-}" ]; then
  PROMETHEUS_MULTIPROC_DIR="$LEADGUARD_METRICS_ROOT/${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  export PROMETHEUS_MULTIPROC_DIR
fi

exec "$@"
