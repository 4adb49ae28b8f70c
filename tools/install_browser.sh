#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium for the browser tests (tests/test_browser.py).
# Idempotent: does nothing when it is already there. Never runs `playwright install` (its browser
# download cannot work on machines with no network beyond the package registries).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install_browser: $CHROMIUM already present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown')); nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser: $CHROMIUM is missing and we are not root; install it with" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: $CHROMIUM is missing and apt-get is not available; install chromium by hand" >&2
    exit 1
fi

echo "install_browser: $CHROMIUM is missing; installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
echo "install_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
