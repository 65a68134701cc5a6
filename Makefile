# Open Collectivités — les deux commandes : `make serve` et `make test`.
# Tout s'installe dans le dossier du projet (.venv, node_modules, .cache) ; rien n'est installé à la main.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= oc.db
PORT ?= 8001

.PHONY: serve test build sources install clean help harvest bench-harvest bench deploy rebuild

help:
	@echo "make serve   installe tout, construit $(DB) et sert le site sur http://127.0.0.1:$(PORT)/"
	@echo "make test    installe tout et lance les tests"
	@echo "make build   reconstruit $(DB) depuis les sources épinglées"
	@echo "make clean   supprime les artefacts (.venv, node_modules, caches, $(DB))"
	@echo "make bench   mesure temps de réponse, charge, poids des pages et recherche ; écrit bench/RESULTS.md"
	@echo "make deploy  déploie sur Fly.io (flyctl, voir README)"
	@echo "make rebuild récolte, reconstruit et déploie si le contenu a changé (scripts/rebuild.sh)"

$(BIN)/.installed: pyproject.toml datasette-dsfr-theme/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis (PYTHON=$(PYTHON))")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -e ./datasette-dsfr-theme
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm est requis (Node.js 18 ou plus récent)"; exit 1; }
	DSFR_ACCEPT_LICENSE=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

# DSFR files copied from the npm package into the theme plugin (gitignored), reduced to the components
# and icons that the theme's and the site's templates, scripts, plugins and metadata use
DSFR_VENDORED := datasette-dsfr-theme/datasette_dsfr_theme/static/dsfr/VERSION
DSFR_SCANNED := templates static plugins metadata.yml
DSFR_SCANNED_FILES := $(shell find $(DSFR_SCANNED) datasette-dsfr-theme/datasette_dsfr_theme/templates \
	datasette-dsfr-theme/datasette_dsfr_theme/vendor.py -type f ! -name '*.pyc')
$(DSFR_VENDORED): node_modules/.installed $(BIN)/.installed $(DSFR_SCANNED_FILES)
	$(BIN)/python -m datasette_dsfr_theme.vendor node_modules/@gouvfr/dsfr/dist --scan $(DSFR_SCANNED)

install: $(BIN)/.installed node_modules/.installed $(DSFR_VENDORED)

sources: install
	$(BIN)/oc sources

LOADER_FILES := $(shell find loaders plugins/oc_site -name '*.py' -o -name '*.sql')

$(DB): $(BIN)/.installed node_modules/.installed $(LOADER_FILES) data/mappings/*.yml data/producteurs.lock.json
	$(BIN)/oc sources
	$(BIN)/oc build --db $(DB)
	$(BIN)/oc compress --db $(DB)

build: install
	$(BIN)/oc sources
	$(BIN)/oc build --db $(DB)
	$(BIN)/oc compress --db $(DB)

# the pages' absolute links point to this server (oc_site/http/public_address.py), unless OC_URL_PUBLIQUE says otherwise
serve: $(DB) $(DSFR_VENDORED)
	PORT=$(PORT) OC_URL_PUBLIQUE=$${OC_URL_PUBLIQUE:-http://127.0.0.1:$(PORT)} scripts/serve.sh $(DB)

test: $(DB) $(DSFR_VENDORED)
	scripts/install-tools.sh
	scripts/install-chromium.sh
	$(BIN)/pytest -q
	cd datasette-dsfr-theme && ../$(BIN)/python -m pytest -q tests

harvest: $(DB)
	$(BIN)/oc harvest --db $(DB)

bench-harvest: $(DB)
	$(BIN)/python scripts/bench_harvest.py $(DB)

bench: $(DB) $(DSFR_VENDORED)
	scripts/install-tools.sh nginx
	scripts/install-chromium.sh
	$(BIN)/python scripts/bench --db $(DB)

deploy:
	@command -v flyctl >/dev/null || { echo "flyctl est requis : voir README, « Mise en production »"; exit 1; }
	flyctl deploy $(DEPLOY_ARGS)

rebuild: install
	scripts/rebuild.sh

clean:
	rm -rf $(VENV) node_modules .cache $(DB) .pytest_cache
