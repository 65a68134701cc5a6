"""/sitemap.xml and /robots.txt: what a search engine should know of the site.

/sitemap.xml is a sitemap index (sitemaps.org protocol 0.9): one part for the site's pages and its data pages
(/oc and each table), then the fiches of each level, PART_SIZE at most per part (/sitemap-communes-1.xml…).
Each address carries its `lastmod`: for a page made from the data, the date its vintage came into force (the
COG of year N is the one in force on 1 January N; every fiche and table of one oc.db shares it); for the
library, its newest publication; none for the pages of plain text (FAQ, contact…). Never the date of the
request: the sitemap of one oc.db is always the same. Addresses are built on the site's public address
(oc_site.urls.public_url), never on the request's Host header.

Our own module rather than datasette-sitemap (README, « Adresses, API et moteurs de recherche »): that
plugin writes one <urlset> cut at 50,000 addresses, without index nor lastmod.
"""

import math
import weakref
from dataclasses import dataclass
from xml.sax.saxutils import escape

from datasette.utils.asgi import NotFound, Response

from oc_site.comparison import COG_YEAR_SQL
from oc_site.database import DATABASE
from oc_site.levels import LEVELS
from oc_site.paths import ROOT
from oc_site.urls import public_url

PART_SIZE = 10_000  # addresses per part: the protocol allows 50,000 (and 50 MB); 10,000 fiches make ~1 MB
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
# the site's pages made from the data (their lastmod: the data's vintage), then the pages of templates/pages/
DATA_PAGES = ("/", "/publications", "/comparer", "/plan-du-site", "/sources", f"/{DATABASE}")
LIBRARY = "/publications"
NEWEST_PUBLICATION_SQL = """
SELECT max(max(coalesce(date_publication, ''), coalesce(date_mise_a_jour, ''))) FROM publications WHERE masquee = 0
"""
FICHES_SQL = "SELECT url FROM territoires WHERE type = :type ORDER BY code LIMIT :limit OFFSET :offset"
COUNT_SQL = "SELECT count(*) FROM territoires WHERE type = :type"
# robots: the site is open to every crawler, but for visitors' SQL (each table page links to its own)
ROBOTS = """# Open Collectivités
User-agent: *
Disallow: /{database}?sql=
Disallow: /{database}.json?sql=
Disallow: /{database}.csv?sql=

Sitemap: {sitemap}
"""


@dataclass(frozen=True)
class Address:
    path: str
    lastmod: str | None = None


# Database → its vintage date: read once per served (immutable) file, forgotten with it
VINTAGES: "weakref.WeakKeyDictionary[object, str | None]" = weakref.WeakKeyDictionary()


async def vintage_date(db) -> str | None:
    """The day the data's vintage came into force: 1 January of the COG's year (None without one)."""
    if db not in VINTAGES:
        year = (await db.execute(COG_YEAR_SQL)).first()[0] if await db.table_exists("indicateurs_millesimes") else None
        VINTAGES[db] = f"{year}-01-01" if year else None
    return VINTAGES[db]


def text_pages() -> list[str]:
    """The pages of templates/pages/ (Datasette serves templates/pages/faq.html at /faq), but those made
    from the data."""
    return sorted(f"/{p.stem}" for p in (ROOT / "templates" / "pages").glob("*.html") if f"/{p.stem}" not in DATA_PAGES)


async def page_addresses(datasette) -> list[Address]:
    """The site's pages, /oc and each of its tables and views (not the hidden ones: full-text indexes)."""
    db = datasette.get_database(DATABASE)
    vintage = await vintage_date(db)
    library = None
    if await db.table_exists("publications"):
        library = (await db.execute(NEWEST_PUBLICATION_SQL)).first()[0] or None
    hidden = set(await db.hidden_table_names())
    tables = sorted(set(await db.table_names()) - hidden) + sorted(await db.view_names())
    return [
        *(Address(path, library if path == LIBRARY else vintage) for path in DATA_PAGES),
        *(Address(path) for path in text_pages()),
        *(Address(datasette.urls.table(DATABASE, table), vintage) for table in tables),
    ]


async def fiche_addresses(datasette, level: str, part: int) -> list[Address]:
    db = datasette.get_database(DATABASE)
    vintage = await vintage_date(db)
    rows = await db.execute(FICHES_SQL, {"type": level, "limit": PART_SIZE, "offset": (part - 1) * PART_SIZE})
    return [Address(row[0], vintage) for row in rows]


async def parts(datasette) -> list[tuple[str, str | None]]:
    """The parts of the index: (name, lastmod)."""
    db = datasette.get_database(DATABASE)
    found = [("pages", max(filter(None, (a.lastmod for a in await page_addresses(datasette))), default=None))]
    vintage = await vintage_date(db)
    for level, spec in LEVELS.items():
        count = (await db.execute(COUNT_SQL, {"type": level})).first()[0]
        found += [(f"{spec.table}-{n}", vintage) for n in range(1, math.ceil(count / PART_SIZE) + 1)]
    return found


def xml_response(lines: list[str]) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(lines) + "\n",
                    content_type="application/xml; charset=utf-8")


def entry(tag: str, loc: str, lastmod: str | None) -> str:
    return f"<{tag}><loc>{escape(loc)}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + f"</{tag}>"


async def sitemap_index(datasette, request):
    base = public_url(datasette)
    return xml_response([f'<sitemapindex xmlns="{NAMESPACE}">',
                         *(entry("sitemap", f"{base}/sitemap-{name}.xml", lastmod)
                           for name, lastmod in await parts(datasette)),
                         "</sitemapindex>"])


async def sitemap_part(datasette, request):
    name = request.url_vars["partie"]
    if name == "pages":
        addresses = await page_addresses(datasette)
    else:
        table, _, number = name.rpartition("-")
        level = next((level for level, spec in LEVELS.items() if spec.table == table), None)
        addresses = await fiche_addresses(datasette, level, int(number)) if level and int(number) >= 1 else []
    if not addresses:
        raise NotFound(f"Partie du plan du site inconnue : {name}")
    base = public_url(datasette)
    return xml_response([f'<urlset xmlns="{NAMESPACE}">', *(entry("url", base + a.path, a.lastmod) for a in addresses),
                         "</urlset>"])


async def robots_txt(datasette, request):
    return Response.text(ROBOTS.format(database=DATABASE, sitemap=f"{public_url(datasette)}/sitemap.xml"))


ROUTES = [
    (r"^/sitemap\.xml$", sitemap_index),
    (r"^/sitemap-(?P<partie>[a-z]+(?:-\d{1,6})?)\.xml$", sitemap_part),
    (r"^/robots\.txt$", robots_txt),
]
