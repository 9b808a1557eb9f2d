#!/usr/bin/env bash
# PostgreSQL's server programs (initdb, pg_ctl, postgres), for the ledger tests (tests/fleet/, and the
# PostgreSQL row of tests/core/test_store_interface.py) and bench/run.py. The tests start their own throwaway
# cluster in a temporary directory on 127.0.0.1 (tests/postgres_cluster.py), never the cluster Debian's
# package may set up for itself on port 5432.
# Debian keeps the programs in /usr/lib/postgresql/<version>/bin, off PATH, so look there too. Installed
# with apt-get when running as root and missing; otherwise says what is missing and exits 0, so those
# tests skip with the reason (or fail under SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1, as CI sets).
set -euo pipefail
source "$(dirname "$0")/lib/apt.bash"

if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi
apt_install_missing initdb postgresql "the PostgreSQL ledger tests"
