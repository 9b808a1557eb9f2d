# Shared by the set-up steps (sourced, not run: scripts/test runs only scripts/setup.d/*.sh).
#
#   apt_install_missing COMMAND PACKAGE WHAT
#
# Does nothing when COMMAND is on PATH. Otherwise, as root with apt-get, installs the Debian
# PACKAGE (refreshing the package lists only if the first try fails); without root or apt-get,
# prints one line saying what is missing, so the tests that need it skip with that reason.
apt_install_missing() {
    local command=$1 package=$2 what=$3
    if command -v "$command" >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: $command is missing; install Debian's $package (as root: apt-get install $package); $what skip"
        return 0
    fi
    echo "setup: installing Debian's $package for $what"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "$package" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q "$package" >/dev/null
    fi
}
