#!/usr/bin/env bash
# Installs the system tools that `make test` and `make bench` need and that pip/npm cannot provide:
# wrk (HTTP load generator), and the Debian packages named as arguments (`make bench` adds nginx, its
# local caching proxy). Does nothing when they are already there.
# Usage: scripts/install-tools.sh [PACKAGE…]
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
for package in "$@"; do
  command -v "$package" >/dev/null 2>&1 || [ -x "/usr/sbin/$package" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Outils absents : ${missing[*]} ; installez-les avec le gestionnaire de paquets du système." >&2
  exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "Installation de ${missing[*]} (paquets Debian)…" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
