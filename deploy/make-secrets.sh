#!/bin/sh
# Creates every secret file docker-compose.yml mounts, in deploy/secrets/
# (ignored by git). Existing files are kept, so running it again is safe;
# delete one file to regenerate that secret. Run from the repository root:
#
#   sh deploy/make-secrets.sh [domain]
#
# The TLS certificate made here is self-signed, for a staging host; put your
# CA-issued certificate and key in tls_cert.pem / tls_key.pem instead.
set -eu
umask 077
DIR="$(dirname "$0")/secrets"
DOMAIN="${1:-${LEADGUARD_DOMAIN:-localhost}}"
mkdir -p "$DIR"

random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

keep() { [ -s "$DIR/$1" ] && echo "kept    $1" ; }

create() {
  name=$1; shift
  keep "$name" && return 0
  "$@" > "$DIR/$name"
  echo "created $name"
}

create postgres_password random
create redis_password random
create leadguard_metrics_token random
PG=$(cat "$DIR/postgres_password")
RP=$(cat "$DIR/redis_password")
create leadguard_database_url echo "postgresql+psycopg://leadguard:$PG@postgres:5432/leadguard"
create leadguard_tracker_db_url echo "postgresql://leadguard:$PG@postgres:5432/leadguard"
create leadguard_broker_url echo "redis://:$RP@redis:6379/0"
create leadguard_console_rate_limit_storage echo "redis://:$RP@redis:6379/2"
# The relay's password: replace the placeholder with the real one.
create leadguard_smtp_password echo "change-me"

if ! keep leadguard_keyring; then
  # The key ring document, made by the application itself.
  "${PYTHON:-.venv/bin/python}" - "$DIR/leadguard_keyring" <<'PY'
import sys
from leads.keyring import new_keyring_document, write_keyring_file
from pathlib import Path
write_keyring_file(Path(sys.argv[1]), new_keyring_document())
PY
  echo "created leadguard_keyring"
fi

if ! keep tls_key.pem; then
  openssl req -x509 -newkey rsa:3072 -sha256 -days 90 -nodes \
    -subj "/CN=$DOMAIN" -addext "subjectAltName=DNS:$DOMAIN" \
    -keyout "$DIR/tls_key.pem" -out "$DIR/tls_cert.pem" 2>/dev/null
  echo "created tls_key.pem, tls_cert.pem (self-signed for $DOMAIN)"
fi

# The containers run as uid 10001 (app) and 1001 (Rasa); let them read.
chmod 0644 "$DIR"/* 2>/dev/null || true
chmod 0700 "$DIR"
echo "secrets are in $DIR (keep a copy of leadguard_keyring offline: without it no backup can be read)"
