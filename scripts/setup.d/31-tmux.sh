#!/usr/bin/env bash
# tmux, for the test that drives the real Claude Code CLI interactively and answers its own permission
# prompt ("ask", tests/hosts/test_claude_code_cli.py). Installed with apt-get when running as root and
# missing; otherwise says what is missing and exits 0, so that test skips with the reason (or fails under
# SPINEGATE_REQUIRE_OUTSIDE_TOOLS=1, as CI sets).
set -euo pipefail
source "$(dirname "$0")/lib/apt.bash"

apt_install_missing tmux tmux "the interactive Claude Code test"
