"""Pure classification of a publication from its text: topics, years, territory type, plain text.

Topics follow the taxonomy of the brief (§3); each is recognised from accent-free keywords.
"""

import html
import re
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlparse

import nh3

from oc_site.taxonomy import THEMES, TYPES  # noqa: F401 - re-exported for the loaders
from oc_site.text import normalise, strip_controls

# accent-free word stems (matched at the start of a word) for each topic
THEME_KEYWORDS = {
    "aide_dotations": ["dotation", "dgf", "subvention", "fonds de perequation", "perequation", "fpic",
                       "aide aux communes", "dsil", "detr", "concours financiers"],
    "culture_education": ["culture", "culturel", "ecole", "educat", "enseignement", "college", "lycee",
                          "bibliotheque", "musee", "patrimoine", "scolaire", "eleves", "universit"],
    "developpement_durable": ["environnement", "climat", "energie", "dechet", "eau potable", "biodiversite",
                              "transition ecologique", "artificialisation", "emissions", "developpement durable",
                              "mobilite", "transport", "logement", "urbanisme"],
    "emploi_fpt": ["emploi", "chomage", "fonction publique", "agents territoriaux", "effectifs",
                   "remuneration", "salaire", "travail", "recrutement", "fonctionnaire"],
    "finances_fiscalite": ["finances", "financier", "fiscal", "impot", "taxe", "budget", "comptes",
                           "dette", "endettement", "depenses", "recettes", "investissement", "epargne"],
    "geographie_intercommunalites": ["intercommunal", "epci", "commune nouvelle", "communes nouvelles",
                                     "perimetre", "code officiel geographique", "zonage",
                                     "population", "recensement", "demographi", "metropole", "geographi"],
    "parite": ["parite", "egalite femmes hommes", "egalite entre les femmes", "femmes elues", "elues"],
    "sante_social": ["sante", "social", "sociale", "hopital", "medec", "pauvrete", "rsa", "handicap",
                     "personnes agees", "dependance", "aide sociale", "precarite", "soins"],
    "securite": ["securite", "delinquance", "criminalite", "police", "gendarmerie", "cambriolage",
                 "violences", "incendie", "secours", "sdis"],
}
_THEME_PATTERNS = {
    code: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")")
    for code, words in THEME_KEYWORDS.items()
}

_LEVEL_PATTERNS = {
    "commune": re.compile(r"\b(?:communes|communal|communales|municipal|municipales|maires)\b"),
    "epci": re.compile(r"\b(?:epci|intercommunalites|intercommunal\w*|groupements a fiscalite propre)\b"),
    "departement": re.compile(r"\b(?:departements|departementaux|departementales|conseils departementaux)\b"),
    "region": re.compile(r"\b(?:regions|regionaux|regionales|conseils regionaux)\b"),
}

YEAR = re.compile(r"(?<![0-9])(19[5-9][0-9]|20[0-4][0-9])(?![0-9])")
SPACES = re.compile(r"\s+")
# The sanitiser's cost grows with the square of the nesting of tags (200,000 nested <div> in a 1 MB entry
# took 4.5 min of CPU): it reads at most INPUT_PER_OUTPUT times the text kept, and a text with more than
# MAX_TAGS tags has them removed first by a linear expression, leaving nh3 nothing nested to walk through.
INPUT_PER_OUTPUT = 10
DEFAULT_INPUT_MAX = 100_000
MAX_TAGS = 1000
TAG = re.compile(r"<[^<>]*>")


def themes_for(*texts: str) -> list[str]:
    """Topic codes whose keywords appear in the texts (accent- and case-free)."""
    joined = " ".join(normalise(t) for t in texts if t)
    return [code for code, pattern in _THEME_PATTERNS.items() if pattern.search(joined)]


def territory_type(*texts: str) -> str | None:
    """The level a publication covers as a whole ("toutes les communes…"), or None."""
    joined = " ".join(normalise(t) for t in texts if t)
    found = [level for level, pattern in _LEVEL_PATTERNS.items() if pattern.search(joined)]
    return ",".join(found) or None


def years_in(*texts: str) -> list[int]:
    years = set()
    for text in texts:
        years.update(int(y) for y in YEAR.findall(text or ""))
    return sorted(years)


def untagged(text: str) -> str:
    """`text` without tags (nor the content of scripts and styles), entities decoded, spaces collapsed."""
    if text.count("<") > MAX_TAGS:
        text = TAG.sub(" ", text)
    return SPACES.sub(" ", html.unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}))).strip()


def plain_text(value, limit: int | None = None) -> str:
    """HTML (or text) → plain text: tags and their scripts/styles removed, entities decoded; the input read
    is bounded (see INPUT_PER_OUTPUT)."""
    if value is None:
        return ""
    text = untagged(strip_controls(str(value)[: limit * INPUT_PER_OUTPUT if limit else DEFAULT_INPUT_MAX]))
    # a second pass: entity-encoded markup ("&lt;script&gt;") must not come back as tags
    if "<" in text:
        text = untagged(text)
    text = strip_controls(text)  # entities too: "&#1;", "&#x202E;"
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


URL_MAX = 2000  # characters: what browsers and servers accept everywhere; a 200 KB link made a 226 KB page


def safe_url(value: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL without control characters nor spaces, at most URL_MAX characters; else None
    (javascript:, data:, mailto:, relative without base, too long…)."""
    if not value:
        return None
    value = SPACES.sub("", strip_controls(str(value)[: URL_MAX * 2]))
    if len(value) > URL_MAX:
        return None
    if base and urlparse(base).scheme in ("http", "https"):
        value = urljoin(base, value)
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(value) > URL_MAX:
        return None
    return value


def parse_date(value) -> datetime | None:
    """A datetime (UTC) from ISO 8601, RFC 822, a struct_time, 'YYYY' or 'YYYY-MM'; None if unreadable."""
    if value is None or value == "":
        return None
    if hasattr(value, "tm_year"):
        return datetime(*value[:6], tzinfo=timezone.utc)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError):
        pass
    match = re.fullmatch(r"(\d{4})(?:[-/](\d{1,2}))?(?:[-/](\d{1,2}))?", text)
    if match and 1000 < int(match.group(1)) < 2200:
        year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
        try:
            return datetime(year, month, day, tzinfo=timezone.utc)
        except ValueError:
            return None
    return None


# Dates outside this range are errors of the source: the BnF's statistical library (Gallica) holds
# yearbooks from the 18th century on; nothing is published after today.
EARLIEST = date(1700, 1, 1)
DATE_PROBLEMS = {"futur": "date(s) dans le futur", "ancienne": f"date(s) antérieure(s) à {EARLIEST.year}",
                 "illisible": "date(s) illisible(s)"}


def iso_date(value, today: date) -> tuple[str | None, str | None]:
    """(YYYY-MM-DD or None, None or the problem of a date given but dropped: futur, ancienne, illisible)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    parsed = parse_date(value)
    if parsed is None:
        return None, "illisible"
    if parsed.date() > today:
        return None, "futur"
    if parsed.date() < EARLIEST:
        return None, "ancienne"
    return parsed.date().isoformat(), None
