#!/usr/bin/env bash
# The native receipt path (`spinegate._native`, a C extension built by `pip install`): a C compiler and,
# on Linux, OpenSSL's headers (Debian's gcc and libssl-dev; macOS has both with its command-line tools).
# As root with apt-get, installs what is missing; then, if the extension was not built when the virtual
# environment was made (say the headers came only now), builds it again. Otherwise says what is missing
# and exits 0: spinegate then runs its pure-Python path, and the tests of the extension itself skip
# (or fail under SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1, as CI sets).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.d/lib/apt.bash

if .venv/bin/python -c "import spinegate._native" >/dev/null 2>&1; then
    exit 0
fi
if [ "$(uname -s)" = "Linux" ]; then
    apt_install_missing gcc gcc "the native receipt path"
    if [ ! -f /usr/include/openssl/evp.h ]; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
            echo "setup: installing Debian's libssl-dev for the native receipt path"
            export DEBIAN_FRONTEND=noninteractive
            if ! apt-get install -y -q libssl-dev >/dev/null 2>&1; then
                apt-get update -q >/dev/null
                apt-get install -y -q libssl-dev >/dev/null
            fi
        else
            echo "setup: OpenSSL's headers are missing; install Debian's libssl-dev (as root: apt-get install" \
                 "libssl-dev); spinegate runs its pure-Python receipt path, and the extension's tests skip"
            exit 0
        fi
    fi
fi
if command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then
    echo "setup: building spinegate's native extension"
    .venv/bin/pip install -q --no-deps -e .
fi
