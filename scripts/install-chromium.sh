#!/bin/sh
# Installe le Chromium de Debian pour les tests navigateur (Playwright piloté avec
# executable_path=/usr/bin/chromium). Ne lance jamais `playwright install`.
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium déjà présent : $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version || true
