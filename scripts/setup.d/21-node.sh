#!/usr/bin/env bash
# Node.js, for the report page's JavaScript tests (Node's own test runner, tests/report/js/).
# The project's machines come with Node 20; this step acts only where `node` is missing, as root,
# with Debian's nodejs package (Node 18: it has the test runner and the WebCrypto the tests use).
set -euo pipefail
source "$(dirname "$0")/lib/apt.bash"

apt_install_missing node nodejs "the report's JavaScript tests"
