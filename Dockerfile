# Open Collectivités — production image (Fly.io, or any container host).
#
#   docker build -t open-collectivites .                          # oc.db built inside the image
#   docker build --build-arg OC_DB_SOURCE=artefact -t open-collectivites .   # use ./oc.db as built by CI
#
# The image is immutable: the database, its inspect file and the code never change once built;
# a new database means a new image (scripts/rebuild.sh, `make deploy`). Nothing secret is baked in:
# DATASETTE_SECRET comes from the environment at run time (`fly secrets set DATASETTE_SECRET=…`).

ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

# ---- build: the project's own install recipe (make install: .venv + npm ci), then oc.db ----
FROM ${PYTHON_IMAGE} AS build
# build = run `oc build` from the pinned sources; artefact = take the oc.db present in the build context
# (either way `oc compress` makes its gzip copy and SHA-256 sums beside it: /oc.db.gz, /sources)
ARG OC_DB_SOURCE=build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OC_CACHE_DIR=/app/.cache \
    DSFR_ACCEPT_LICENSE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends make nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# pinned dependencies: pyproject.toml (==) and package-lock.json (npm ci)
RUN make install
RUN case "$OC_DB_SOURCE" in \
      build) make build ;; \
      artefact) test -s oc.db || { echo "OC_DB_SOURCE=artefact : oc.db absent du contexte de construction" >&2; exit 1; } \
                && .venv/bin/oc compress --db oc.db ;; \
      *) echo "OC_DB_SOURCE doit valoir build ou artefact" >&2; exit 1 ;; \
    esac \
 && .venv/bin/datasette inspect oc.db --inspect-file inspect-data.json \
 && rm -rf node_modules/@etalab node_modules/axe-core .cache tests bench/out
# (node_modules/@gouvfr stays: DSFR and dsfr-chart files may be served from there at run time)

# ---- runtime: Python only (no Node), code and data read-only for the server's user ----
FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --no-create-home oc
WORKDIR /app
COPY --from=build /app /app
ENV HOST=0.0.0.0 \
    PORT=8080 \
    INSPECT_FILE=inspect-data.json \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER oc
EXPOSE 8080
# the same script as `make serve` and the tests: one datasette serve command line
CMD ["scripts/serve.sh", "oc.db"]
