#!/usr/bin/env bash
# Debian's Chromium, for the report tests that render the page headless (tests/report/test_report_browser.py).
# Installed with apt-get when running as root and missing; otherwise says what is missing and exits 0,
# so those tests skip with the reason (or fail under SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1, as CI sets).
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "setup: chromium is missing; as root: apt-get install chromium (the browser tests of the report skip)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: chromium is missing and there is no apt-get here; install Chromium by hand (the browser tests skip)"
    exit 0
fi
echo "setup: installing Debian's chromium for the report's browser tests"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q chromium >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q chromium >/dev/null
fi
chromium --version
