#!/usr/bin/env bash
# Node.js, for the report page's JavaScript tests (Node's own test runner, tests/report/js/).
# The project's machines come with Node 20; this step only acts where `node` is missing, as root,
# with Debian's nodejs package (Node 18, which has the test runner and WebCrypto the tests use).
set -euo pipefail

if command -v node >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: node is missing; install Node.js 18 or newer (the report's JavaScript tests skip)"
    exit 0
fi
echo "setup: installing Debian's nodejs for the report's JavaScript tests"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q nodejs >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q nodejs >/dev/null
fi
node --version
