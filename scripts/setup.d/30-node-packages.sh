#!/usr/bin/env bash
# Node packages the suite drives for real, installed locally (never globally) in tests/node/ with
# `npm ci` from its package-lock.json: @modelcontextprotocol/server-filesystem (a third-party MCP
# server behind spinegate mcp-proxy); other steps' tests add theirs to the same package.json.
# Needs Node.js 20 or later and npm; as root, installs them with apt-get when npm is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tests/node
stamp="$dir/node_modules/.spinegate-installed-lock.json"  # the lock file the last install used

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Node.js and npm (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        echo "setup: Node.js and npm are missing; install Node.js 20+ with npm (apt-get install nodejs npm)," \
             "then rerun scripts/test; the tests that drive Node MCP servers skip until then"
        exit 0
    fi
fi

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
    echo "setup: Node.js $(node --version) is too old for $dir (20 or later is needed); the tests that drive" \
         "Node MCP servers skip until it is upgraded"
    exit 0
fi

if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    exit 0  # installed from this very lock file already
fi
echo "setup: installing the Node packages of $dir (npm ci)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cp "$dir/package-lock.json" "$stamp"
