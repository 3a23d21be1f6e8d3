#!/usr/bin/env bash
# Make sure a PostgreSQL is available: the pgserver wheel (installed with the package
# where the platform has one) or the machine's own binaries. Installs Debian's
# postgresql when neither is there and we may (root with apt-get); never fatal when
# pgserver already works.
set -u
VENV_PY="${VENV_PY:-.venv/bin/python}"
have_pgserver() { "$VENV_PY" -c "import pgserver" >/dev/null 2>&1; }
have_binaries() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
if have_binaries; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: installing Debian's postgresql (for the system-binaries fallback)"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null) \
    || echo "ensure-postgres: apt-get install postgresql failed"
  # Debian starts a cluster of its own; we do not use it.
  command -v pg_ctlcluster >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
    pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true; done
fi
if have_binaries || have_pgserver; then exit 0; fi
echo "ensure-postgres: no PostgreSQL available: install postgresql, or set BACKCHANNEL_DATABASE_URL" >&2
exit 1
