"""The publications library: /publications and its Atom feed (routes.py), the queries behind it and behind the fiches' publications block (library.py)."""
