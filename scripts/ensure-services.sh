#!/usr/bin/env bash
# Make sure the database servers the tests use are up; start the machine's own if they are not.
# Tests create (and drop) databases of their own on them. Under CI=true, a server that cannot be
# reached makes the tests fail; elsewhere its tests are skipped.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 30); do up "$port" && return 0; sleep 1; done
  echo "ensure-services: $name still not listening on $port" >&2
  return 1
}

if ! up 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-services: starting PostgreSQL"
  for version in /etc/postgresql/*; do
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
  done
  wait_for 5432 PostgreSQL
fi

if ! up 3306 && [ -x /usr/sbin/mariadbd ]; then
  echo "ensure-services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_for 3306 MariaDB
fi

if ! up 6379 && command -v redis-server >/dev/null 2>&1; then
  echo "ensure-services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_for 6379 Redis
fi

# The Firebase Auth emulator (npm firebase-tools, pinned), kept in .cache/ and installed once.
FIREBASE_TOOLS_VERSION=15.34.2
firebase_bin=".cache/firebase-tools/node_modules/.bin/firebase"
if [ ! -x "$firebase_bin" ] && command -v npm >/dev/null 2>&1; then
  echo "ensure-services: installing firebase-tools $FIREBASE_TOOLS_VERSION (Auth emulator)"
  mkdir -p .cache/firebase-tools
  npm install --prefix .cache/firebase-tools --no-audit --no-fund --loglevel=error \
    "firebase-tools@$FIREBASE_TOOLS_VERSION" || echo "ensure-services: firebase-tools install failed" >&2
fi

# Java runs OpenAPI Generator (its jar comes from PyPI) in tests/test_generated_client.py.
if ! command -v java >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-services: installing a Java runtime (OpenAPI Generator)"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; } \
    >/dev/null || echo "ensure-services: Java install failed" >&2
fi

exit 0
