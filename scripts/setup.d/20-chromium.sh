#!/usr/bin/env bash
# Debian's Chromium, for the report tests that render the page headless (tests/report/test_report_browser.py).
# Installed with apt-get when running as root and missing; otherwise says what is missing and exits 0,
# so those tests skip with the reason (or fail under SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1, as CI sets).
set -euo pipefail
source "$(dirname "$0")/lib/apt.bash"

if command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
apt_install_missing chromium chromium "the report's browser tests"
