"""The site's own pages: home, site map, /sources, the operator's details, and the assets every page loads."""
