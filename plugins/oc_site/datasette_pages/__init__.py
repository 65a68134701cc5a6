"""What the site changes in Datasette's own pages: canned queries, French labels, generated metadata, templates read once, SQLite limits, client errors answered 4xx."""
