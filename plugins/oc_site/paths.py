"""Where the project's files are: the site package lives in plugins/oc_site/ of the project (installed in
editable mode), and reads the canned queries, curated data and npm packages from the project's folders."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project: metadata.yml, queries/, data/, node_modules/
QUERIES = ROOT / "queries"
DATA = ROOT / "data"
NODE_MODULES = ROOT / "node_modules"
