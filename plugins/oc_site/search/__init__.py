"""The territory search: /recherche and /recherche.json (routes.py) over the full-text index (index.py)."""
