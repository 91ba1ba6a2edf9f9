#!/usr/bin/env bash
# Makes sure what the tests talk to is here: Debian's prometheus (promtool), alertmanager, openssl (makes the test
# certificates) and curl (a second TLS client), logrotate (rotates the
# CRM's log under load in test/e2e/logrotate-load.test.ts), docker-compose (validates
# docker-compose.yml offline; no Docker engine is installed or needed), and the baselines the
# benchmarks compare against; PostgreSQL and Redis running on 127.0.0.1. Installs/starts only what is missing.
# Run by `npm test` (pretest) and by .ci/run; needs root (or sudo) only when something must be installed.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(prometheus prometheus-alertmanager mtail prometheus-postgres-exporter prometheus-redis-exporter docker-compose openssl curl logrotate)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test-deps: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "test-deps: PostgreSQL is not answering on 127.0.0.1:5432; starting the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "test-deps: Redis is not answering on 127.0.0.1:6379; starting it (nothing persisted)"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
