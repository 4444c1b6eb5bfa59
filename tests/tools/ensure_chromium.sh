#!/bin/sh
# Make a headless Chromium available for the page tests (tests/headless_chromium.py: test_report.py, test_ta_pages.py).
# Under CI=true these tests may not skip (tests/conftest.py), so CI must have a browser: this
# script is what the test itself calls when none is on PATH, and what a CI set-up step can
# call ahead of `make test`. It does nothing where chromium, chromium-browser or google-chrome
# is already installed (GitHub's Ubuntu images ship Google Chrome); otherwise it apt-get
# installs Debian's chromium as root, or through `sudo -n` where that needs no password.
set -eu
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" > /dev/null 2>&1; then
    command -v "$name"
    exit 0
  fi
done
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then
  as_root="sudo -n"
else
  echo "ensure_chromium: no browser installed, and apt-get needs root or passwordless sudo" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -q > /dev/null
$as_root apt-get install -y -q chromium > /dev/null
command -v chromium
