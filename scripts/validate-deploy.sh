#!/usr/bin/env bash
# Validates the deployment files without a Docker engine:
#   1. docker-compose.yml  — `docker-compose config -q` (Debian's docker-compose, installed
#      with apt-get when missing), plus a check that only gateway, prometheus, grafana and
#      jaeger publish ports (read and metrics are internal), plus prometheus.yml targets.
#   2. .github/workflows/*.yml — actionlint.
#   3. deploy/k8s — each overlay rendered with the kustomize library, every object decoded
#      strictly against k8s.io/api, and the deployment policy (scripts/k8s-check), which must
#      also refuse each broken overlay in scripts/k8s-check/testdata.
# Go tools are built once into the per-user cache (like the pinned Node), keyed by version.
# Exits non-zero, naming each failed check, if any check fails.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
PUBLIC_SERVICES="gateway prometheus grafana jaeger"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '[validate-deploy] %s\n' "$*" >&2; }
failures=()
fail() { log "FAIL: $*"; failures+=("$*"); }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else log "need root to run: $*"; return 1
  fi
}

# --- tools -----------------------------------------------------------------------------
if ! command -v docker-compose >/dev/null; then
  log "installing docker-compose from Debian (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

cache_root=${TRACKME_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trackme}

# go_tool NAME KEY BUILD...: prints the path of NAME, built by `BUILD... <dir>` into
# $cache_root/NAME-KEY when missing. The build goes to a temporary folder renamed into place,
# so two runs at once keep one complete copy.
go_tool() {
  local name=$1 key=$2; shift 2
  local dir="$cache_root/$name-$key"
  if [ ! -x "$dir/$name" ]; then
    command -v go >/dev/null || { log "Go is required to build $name"; return 1; }
    log "building $name ($key) with Go into $dir"
    mkdir -p "$cache_root"
    local tmp; tmp=$(mktemp -d "$cache_root/.$name.XXXXXX")
    "$@" "$tmp" >&2 || { rm -rf "$tmp"; return 1; }
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
    # older builds of the same tool are of no further use
    find "$cache_root" -maxdepth 1 -name "$name-*" ! -name "$name-$key" -exec rm -rf {} +
  fi
  printf '%s\n' "$dir/$name"
}
build_actionlint() { GOBIN="$1" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"; }
build_k8s_check() { (cd scripts/k8s-check && go build -trimpath -o "$1/k8s-check" .); }

actionlint=$(go_tool actionlint "$ACTIONLINT_VERSION" build_actionlint)
# keyed by the pinned library versions and a hash of the checker's own sources
k8s_check_key="kustomize-$(awk '$1 == "sigs.k8s.io/kustomize/api" { print $2 }' scripts/k8s-check/go.mod)-k8s-$(awk '$1 == "k8s.io/api" { print $2 }' scripts/k8s-check/go.mod)-$(cat scripts/k8s-check/go.mod scripts/k8s-check/go.sum scripts/k8s-check/*.go | sha256sum | cut -c1-12)"
k8s_check=$(go_tool k8s-check "$k8s_check_key" build_k8s_check)

# A Python with PyYAML: Debian's docker-compose depends on python3-yaml for /usr/bin/python3.
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import yaml' 2>/dev/null; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { log "no python3 with PyYAML found (apt-get install python3-yaml)"; exit 1; }

# --- 1. docker-compose.yml ---------------------------------------------------------------
log "docker-compose $(docker-compose version --short 2>/dev/null || echo '?'): config -q"
if ! docker-compose -f docker-compose.yml config -q; then
  fail "docker-compose.yml is not valid (docker-compose -f docker-compose.yml config -q)"
else
  log "checking published ports (allowed: $PUBLIC_SERVICES)"
  if ! docker-compose -f docker-compose.yml config | PUBLIC_SERVICES="$PUBLIC_SERVICES" "$python" -c '
import os, sys, yaml
allowed = set(os.environ["PUBLIC_SERVICES"].split())
services = (yaml.safe_load(sys.stdin) or {}).get("services") or {}
bad = False
for name in ("gateway", "clients", "read", "metrics", "prometheus", "grafana", "jaeger", "migrate"):
    if name not in services:
        print(f"  service {name!r} is missing", file=sys.stderr); bad = True
for name in ("gateway", "clients", "read", "metrics"):
    if str((services.get(name) or {}).get("environment", {}).get("METRICS_PORT")) != "9464":
        print(f"  service {name!r} must serve its metrics on METRICS_PORT 9464", file=sys.stderr); bad = True
for name, svc in sorted(services.items()):
    ports = svc.get("ports") or []
    if any("9464" in str(p) for p in ports):
        print(f"  service {name!r} publishes the metrics port; only Prometheus may reach it", file=sys.stderr); bad = True
    if ports and name not in allowed:
        print(f"  service {name!r} publishes ports {ports}; only {sorted(allowed)} may", file=sys.stderr); bad = True
sys.exit(1 if bad else 0)
'; then
    fail "docker-compose.yml publishes ports from a service that must stay internal, or lacks a service"
  fi
fi

log "checking prometheus.yml scrape targets"
if ! "$python" - prometheus.yml <<'PY'
import sys, yaml
want = {"gateway": "gateway:9464", "clients": "clients:9464", "read": "read:9464", "metrics": "metrics:9464"}
with open(sys.argv[1]) as f:
    cfg = yaml.safe_load(f) or {}
jobs = {j.get("job_name"): j for j in cfg.get("scrape_configs") or []}
bad = False
for job, target in want.items():
    j = jobs.get(job)
    targets = [t for sc in (j or {}).get("static_configs") or [] for t in sc.get("targets") or []]
    # every replica, found by DNS (Docker's resolver returns one A record per container)
    targets += [f"{n}:{sd.get('port')}" for sd in (j or {}).get("dns_sd_configs") or [] if sd.get("type") == "A" for n in sd.get("names") or []]
    if j is None or target not in targets or j.get("metrics_path", "/metrics") != "/metrics":
        print(f"  job {job!r} must scrape {target}/metrics", file=sys.stderr); bad = True
sys.exit(1 if bad else 0)
PY
then
  fail "prometheus.yml does not scrape every service"
fi

# --- 2. GitHub workflows -------------------------------------------------------------------
log "actionlint $("$actionlint" -version | head -1)"
if ! "$actionlint" .github/workflows/*.yml; then
  fail "GitHub workflow lint (actionlint)"
fi

# --- 3. Kubernetes manifests ------------------------------------------------------------------
# The consumers' replica caps are checked against the partitions declared in the contracts.
partitions=$("$root/node_modules/.bin/tsx" --conditions=@trackme/source -e \
  'import { TOPIC_DECLARATIONS } from "@trackme/contracts"; console.log(TOPIC_DECLARATIONS.map((t) => `${t.name}=${t.partitions}`).join(","))')
log "k8s-check: overlays dev and prod, partitions $partitions"
if ! "$k8s_check" -partitions "$partitions" -cases scripts/k8s-check/testdata deploy/k8s/overlays/dev deploy/k8s/overlays/prod; then
  fail "Kubernetes manifests (scripts/k8s-check over deploy/k8s/overlays)"
fi

if [ "${#failures[@]}" -gt 0 ]; then
  log "${#failures[@]} check(s) failed:"
  for f in "${failures[@]}"; do log "  - $f"; done
  exit 1
fi
log "all deployment checks passed"
