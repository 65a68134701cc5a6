#!/usr/bin/env bash
# Installs the system tools that `make test` and `make bench` need and that pip/npm cannot provide:
# wrk (HTTP load generator) and nginx (the local caching proxy of the bench), from Debian.
# Does nothing when they are already there.
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
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
