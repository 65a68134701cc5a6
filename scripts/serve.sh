#!/usr/bin/env bash
# The one `datasette serve` invocation, shared by `make serve` and the container image.
# Usage: scripts/serve.sh [DB] [extra datasette options…]
# Environment: HOST, PORT, INSPECT_FILE (from `datasette inspect`), DATASETTE_SECRET (read by datasette),
# OC_METADATA (another metadata file, default metadata.yml; the browser tests use it for local tiles).
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-oc.db}"
shift || true
datasette="${DATASETTE:-.venv/bin/datasette}"
[ -x "$datasette" ] || datasette=datasette
inspect=()
python="${PYTHON_BIN:-.venv/bin/python}"
[ -x "$python" ] || python=python3
# settings.json is the single list of settings, read by the tests too
mapfile -t settings < <("$python" -c '
import json
for key, value in json.load(open("settings.json")).items():
    value = ("on" if value else "off") if isinstance(value, bool) else value
    print("--setting"); print(key); print(value)')
[ -f "${INSPECT_FILE:-}" ] && inspect=(--inspect-file "$INSPECT_FILE")
exec "$datasette" serve -i "$db" "${inspect[@]}" \
  --host "${HOST:-127.0.0.1}" --port "${PORT:-8001}" \
  --metadata "${OC_METADATA:-metadata.yml}" \
  --template-dir templates \
  --static static:static \
  --cors \
  "${settings[@]}" \
  "$@"
