#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser test in tests/web:
# Playwright drives that browser, never one it downloads itself (no `playwright install`).
# Installs the `chromium` package with apt-get when it is missing and we may (root, or
# sudo without a password); otherwise prints a warning and the browser test skips.
# Never fatal: the rest of the suite does not need a browser.
set -u
CHROMIUM=/usr/bin/chromium
warn() { echo "ensure-chromium: $1; the browser test (tests/web) will be skipped" >&2; }
[ -x "$CHROMIUM" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  warn "no $CHROMIUM and no apt-get to install it"; exit 0
fi
if [ "$(id -u)" = "0" ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  SUDO="sudo -n"
else
  warn "no $CHROMIUM, and installing it needs root (apt-get install chromium)"; exit 0
fi
echo "ensure-chromium: installing Debian's chromium (for the browser test)"
($SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
  && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
       --no-install-recommends chromium >/dev/null) || warn "apt-get install chromium failed"
[ -x "$CHROMIUM" ] || warn "still no $CHROMIUM"
exit 0
