#!/usr/bin/env bash
# Node packages the suite drives for real, installed locally (never globally) in tests/node/ with
# `npm ci` from its package-lock.json: @modelcontextprotocol/server-filesystem, a third-party MCP
# server behind spinegate mcp-proxy (tests/mcp/test_filesystem_server.py), and @anthropic-ai/claude-code,
# the Claude Code CLI (a native binary its postinstall puts in place; tests/hosts/test_claude_code_cli.py).
# Other tests add their packages to the same package.json. Needs Node.js 20 or later and npm (21-node.sh provides Node;
# npm comes from Debian here, as root, when missing). Does nothing when tests/node is installed
# from its current lock file already.
set -euo pipefail
source "$(dirname "$0")/lib/apt.bash"
cd "$(dirname "$0")/../.."
dir=tests/node
stamp="$dir/node_modules/.spinegate-installed-lock.json"  # the lock file the last install used
what="the tests that drive Node MCP servers and the Claude Code CLI"

apt_install_missing node nodejs "$what"
apt_install_missing npm npm "$what"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    exit 0  # apt_install_missing said what is missing
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
    echo "setup: Node.js $(node --version) is too old for $dir (20 or later is needed); $what skip"
    exit 0
fi
if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
    exit 0
fi
echo "setup: installing the Node packages of $dir (npm ci)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cp "$dir/package-lock.json" "$stamp"
