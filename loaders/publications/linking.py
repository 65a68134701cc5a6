"""Pure matching of publication texts to territories (régions, départements, EPCI, communes).

Names are compared accent- and case-free on word boundaries (loaders/text.py), the longest name
wins ("Loire-Atlantique" over "Loire", "Rennes Métropole" over "Rennes"), and precision comes first:

- a place name must start with a capital letter in the text ("orange" is a fruit, "Orange" maybe);
- all-capital short words are acronyms, never places ("EU", "PAC");
- names that are also common words ("Orange", "Nice", "Tours", "Y", "Eu", "Vie", "Pont", "Ham",
  "Bar", "Mer", "Nord", "Somme"…), very short names and small single-word communes need context:
  their département or région named in the same publication, a département code in parentheses
  ("Orange (84)"), or a cue before them ("commune de", "ville de", "département du");
- homonyms ("Saint-Denis", "Montreuil", "Sainte-Colombe") are resolved with the same context, or
  by a dominant population (a city ten times bigger than every namesake); otherwise left unlinked;
- région and département names take precedence over the communes that share them ("Bretagne").

Each link says how it was made: titre, resume, categorie (from the text), producteur (the source's
territory), curation (declared in the curated list), catalogue (declared in the catalogue).
"""

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from oc_site.levels import LEVELS
from oc_site.text import tokens

WORD = re.compile(r"[^\W_]+")
SENTENCE_END = re.compile(r"[.!?:;»«—–|\n]\s*$")
DEPARTEMENT_CODE = re.compile(r"\((0[1-9]|[1-8]\d|9[0-5]|2[AaBb]|97[1-6])\)")
SIREN = re.compile(r"(?<!\d)(2\d{8})(?!\d)")

# Normalised one-word names that are also ordinary words: they need context to count as places.
COMMON_WORDS = set("""
orange nice tours sens gap lens vienne vie pont ham bar mer sept plan grand fontaine rue port salon
marines ville bourg chambre charges conde valence lourdes cannes moulins vire dole marne nord somme
manche landes lot cher var ain loire orne gard aude eure indre meuse creuse oise aisne allier rhone
vendee seine centre reunion montagne vallee table balance belle bonne grande petit petite saint
sainte mont premier cite pau dax auch foix riom agen vitre
""".split())
# Several-word names that read as ordinary phrases at the start of a sentence.
COMMON_PHRASES = {("le", "port"), ("le", "plan"), ("la", "table"), ("le", "pin"), ("la", "riviere"),
                  ("la", "chapelle"), ("le", "lac"), ("la", "marne"), ("la", "poste"), ("les", "mes")}
# Those that also open titles as ordinary words or brands ("Orange : …", "Plan : …", "Vie : …").
TITLE_WORDS = {"orange", "plan", "vie", "sens", "grand", "grande", "bonne", "belle", "salon", "table", "balance",
               "premier", "cite", "mer", "centre", "port", "rue", "ville", "chambre", "charges", "saint",
               "sainte", "petit", "petite", "montagne", "vallee", "pont", "bar", "seine", "sept", "mont"}
ARTICLES = {"le", "la", "les", "l"}
CONTRACTIONS = {"au", "du"}
UPPER_ALIASES = {("paca",), ("aura",)}
# Those, capitalised inside a sentence, are the place: "à Tours", "la ville de Pau", "en Vendée".
SAFE_INSIDE_SENTENCE = {"tours", "nice", "valence", "lourdes", "cannes", "moulins", "pau", "dax", "auch",
                        "foix", "riom", "agen", "vitre", "vendee", "landes", "creuse", "aisne", "oise",
                        "meuse", "allier", "orne", "gard", "aude", "eure", "indre", "marne"}
CUES = {"commune", "communes", "ville", "mairie", "maire", "departement", "departements", "departemental",
        "departementale", "region", "regional", "territoire", "agglomeration", "metropole", "canton"}
ALIASES = {
    ("region", "93"): ["PACA", "Région Sud", "Provence-Alpes-Côte-d'Azur"],
    ("region", "84"): ["AURA"],
    ("region", "94"): ["Corse"],
    ("departement", "974"): ["Réunion", "île de La Réunion"],
}
EPCI_PREFIXES = {
    "ca": "communaute d agglomeration",
    "cc": "communaute de communes",
    "cu": "communaute urbaine",
}
EPCI_WORDS = {"agglo", "agglomeration", "metropole", "communaute", "pays", "territoire", "intercom"}
SMALL_COMMUNE = 5000
DOMINANT_POPULATION = 20000


@lru_cache(maxsize=200_000)
def word_tokens(word: str) -> tuple[str, ...]:
    return tuple(tokens(word))


@dataclass(frozen=True)
class Place:
    level: str
    code: str
    name: str
    departement: str | None
    region: str | None
    population: int


@dataclass
class Span:
    places: list
    key: tuple
    capitalised: bool
    acronym: bool
    sentence_start: bool
    cue_before: bool
    code_after: str | None
    parenthetical: bool = False  # "Y (Somme)": the département only locates the commune
    topic: bool = False  # "Tours : …" at the start of a title: the place is the topic


class Matcher:
    """A gazetteer of every territory name, keyed by its tuple of normalised words."""

    def __init__(self, places: list[Place]):
        self.index: dict[tuple, list[Place]] = {}
        self.by_code: dict[tuple, Place] = {}
        self.departement_region: dict[str, str] = {}
        for place in places:
            self.by_code[(place.level, place.code)] = place
            if place.level == "departement":
                self.departement_region[place.code] = place.region
            for name in self.names(place):
                key = tuple(tokens(name))
                if key:
                    self.index.setdefault(key, []).append(place)
        self.max_length = max((len(k) for k in self.index), default=1)
        self.cache: dict[str, list[Span]] = {}

    @staticmethod
    def names(place: Place) -> list[str]:
        names = [place.name, *ALIASES.get((place.level, place.code), [])]
        if place.level == "epci":
            words = tokens(place.name)
            if words and words[0] in EPCI_PREFIXES:
                names.append(EPCI_PREFIXES[words[0]] + " " + " ".join(words[1:]))
                # "Valence Romans Agglo", "Pays Basque": the name without its legal form, when it
                # cannot be mistaken for a commune (three words at least, or a telling word)
                rest = words[1:]
                while rest and rest[0] in ("de", "du", "des", "la", "l", "d"):
                    rest = rest[1:]
                if len(rest) >= 3 or (len(rest) == 2 and EPCI_WORDS & set(rest)):
                    names.append(" ".join(rest))
            if words[:3] == ["metropole", "du", "grand"]:
                names.append(" ".join(words[2:]))  # "Grand Paris", "Grand Nancy"
        return names

    @classmethod
    def from_db(cls, conn) -> "Matcher":
        rows = conn.execute("""
            SELECT 'region', code, nom, NULL, code, coalesce(population, 0) FROM regions
            UNION ALL SELECT 'departement', code, nom, code, region, coalesce(population, 0) FROM departements
            UNION ALL SELECT 'epci', siren, nom, departement, region, coalesce(population, 0) FROM epci
            UNION ALL SELECT 'commune', code_insee, nom, departement, region, coalesce(population, 0) FROM communes
        """).fetchall()
        return cls([Place(*row) for row in rows])

    # --- scanning ---------------------------------------------------------------------------------

    def spans(self, text: str) -> list[Span]:
        """The territory names found in `text` (cached: context and matching read the same text)."""
        cached = self.cache.get(text)
        if cached is None:
            if len(self.cache) > 20_000:
                self.cache.clear()
            cached = self.cache[text] = self.find_spans(text)
        return cached

    def find_spans(self, text: str) -> list[Span]:
        words = [(m.group(0), m.start(), m.end()) for m in WORD.finditer(text or "")]
        norm: list[str] = []
        owner: list[int] = []  # index of the original word of each normalised token
        for i, (word, _, _) in enumerate(words):
            for token in word_tokens(word):
                norm.append(token)
                owner.append(i)
        # the longest name starting at each word, then the longest names first, without overlaps
        candidates = []  # (first token, number of tokens, key, index of the word that must be capitalised)
        for i in range(len(norm)):
            if i > 0 and owner[i - 1] == owner[i]:
                continue  # a name never starts inside a word
            found_here = self.longest(norm, owner, i)
            if found_here is None and norm[i] in CONTRACTIONS and i + 1 < len(norm):
                # "au Havre", "du Mans": the article is inside the contraction
                rest = self.longest(norm, owner, i + 1, prefix=("le",))
                if rest is not None:
                    candidates.append((i, rest[0], rest[1], owner[i + 1]))
                continue
            if found_here is not None:
                length, key = found_here
                if key[0] in ARTICLES and len(key) > 1 and key[1:] in self.index and \
                        all(p.level == "commune" and p.population < DOMINANT_POPULATION for p in self.index[key]) and \
                        any(p.level in ("region", "departement") for p in self.index[key[1:]]):
                    # "la Creuse" is the département, not the hamlet-sized commune La Creuse
                    candidates.append((i + 1, length - 1, key[1:], owner[i + 1]))
                else:
                    candidates.append((i, length, key, owner[i]))
        taken: set[int] = set()
        found = []
        for i, length, key, capital in sorted(candidates, key=lambda c: (-c[1], c[0])):
            if taken & set(range(i, i + length)):
                continue
            taken.update(range(i, i + length))
            first, last = words[capital], words[owner[i + length - 1]]
            before = text[:words[owner[i]][1]]
            after = text[last[2]:last[2] + 8].lstrip()
            code = DEPARTEMENT_CODE.match(after)
            sentence_start = not before.strip() or bool(SENTENCE_END.search(before))
            found.append((i, Span(
                places=self.index[key],
                key=key,
                capitalised=first[0][:1].isupper(),
                acronym=len(key) == 1 and 2 <= len(first[0]) <= 4 and first[0].isupper() and key not in UPPER_ALIASES,
                sentence_start=sentence_start,
                cue_before=bool(CUES & set(norm[max(0, i - 3):i])),
                code_after=code.group(1).upper() if code else None,
                parenthetical=before.rstrip().endswith("(") and after.startswith(")"),
                topic=sentence_start and after.startswith(":"),
            )))
        return [span for _, span in sorted(found, key=lambda item: item[0])]

    def longest(self, norm, owner, i, prefix=()) -> tuple[int, tuple] | None:
        """(number of tokens, key) of the longest name starting at token i, or None."""
        for length in range(min(self.max_length, len(norm) - i), 0, -1):
            if i + length < len(norm) and owner[i + length] == owner[i + length - 1]:
                continue  # a name never ends inside a word
            key = prefix + tuple(norm[i:i + length])
            if key in self.index:
                return length, key
        return None

    # --- resolving --------------------------------------------------------------------------------

    def guarded(self, span: Span) -> bool:
        """True when the name needs context to be taken as a place."""
        if span.key in COMMON_PHRASES:
            return span.sentence_start
        word = span.key[0] if len(span.key) == 1 else None
        if word in SAFE_INSIDE_SENTENCE:
            return span.sentence_start and not span.topic
        if word in COMMON_WORDS:
            return not (span.topic and word not in TITLE_WORDS)
        return len("".join(span.key)) <= 3

    def context(self, texts: list[str], producer: tuple) -> tuple[set, set]:
        """Départements and régions named without doubt anywhere in the publication."""
        departements, regions = set(), set()
        for text in texts:
            departements.update(c.upper() for c in DEPARTEMENT_CODE.findall(text or ""))
            for span in self.spans(text):
                if not span.capitalised or span.acronym:
                    continue
                strong = not self.guarded(span) or span.cue_before or span.code_after or span.parenthetical
                for place in span.places:
                    if place.level == "departement" and strong:
                        departements.add(place.code)
                    elif place.level == "region" and strong:
                        regions.add(place.code)
                if all(p.level == "commune" for p in span.places):
                    # a commune named without doubt tells its département ("Liévin" → 62, for "Lens")
                    departements.update(p.departement for p in self.resolve(span, set(), set()))
        level, code = producer
        if level == "departement" and code:
            departements.add(code)
        if level == "region" and code:
            regions.add(code)
        regions.update(self.departement_region.get(d) for d in departements if d in self.departement_region)
        return departements, regions

    def resolve(self, span: Span, departements: set, regions: set) -> list[Place]:
        if not span.capitalised or span.acronym:
            return []
        in_context = {p for p in span.places if
                      (span.code_after and p.departement == span.code_after)
                      or (p.level in ("commune", "epci") and p.departement in departements)
                      or (p.level == "departement" and (p.code in departements or p.region in regions))
                      or (p.level == "region" and p.code in regions)}
        in_region = {p for p in span.places if p.level in ("commune", "epci") and p.region in regions}
        guarded = self.guarded(span)
        big = [p for p in span.places if p.level in ("region", "departement")]
        if big:
            if span.parenthetical:
                return []  # context only
            if guarded and not (span.cue_before or span.code_after or in_context):
                return []
            chosen = list(big)
            # Paris: the commune that is also its own département
            chosen += [p for p in span.places if p.level == "commune" and p.departement in {b.code for b in big}
                       and tokens(p.name) == list(span.key) and p.population >= DOMINANT_POPULATION]
            return chosen
        epcis = [p for p in span.places if p.level == "epci"]
        if epcis:
            pool = [p for p in epcis if p in in_context] or [p for p in epcis if p in in_region] or epcis
            return pool if len(pool) == 1 else []
        communes = span.places
        if span.code_after:
            return [p for p in communes if p.departement == span.code_after][:1]
        for local in ([p for p in communes if p in in_context], [p for p in communes if p in in_region]):
            if len(local) == 1:
                return local
            if len(local) > 1:
                return []
        if guarded and not span.cue_before:
            return []
        if len(communes) > 1:
            ranked = sorted(communes, key=lambda p: -p.population)
            top, second = ranked[0], ranked[1]
            if top.population >= DOMINANT_POPULATION and top.population >= 10 * max(second.population, 1):
                return [top]
            return []
        commune = communes[0]
        if len(span.key) == 1 and commune.population < SMALL_COMMUNE and not span.cue_before:
            return []
        return [commune]

    def match(self, text: str, departements: set, regions: set) -> list[Place]:
        found = []
        for span in self.spans(text):
            found.extend(self.resolve(span, departements, regions))
        return found

    def declared(self, reference: str) -> Place | None:
        """'commune:35238' → the Place, if it exists."""
        level, _, code = str(reference).partition(":")
        return self.by_code.get((level, code))

    def rejection(self, level: str, code: str, name: str = "") -> str | None:
        """Why a declared territory cannot be kept (unknown code, name of another territory), or None.
        The name given may add a detail after the official name (« Grand Est (ex-Lorraine) »)."""
        place = self.by_code.get((level, str(code)))
        if place is None:
            return "code absent du COG" if level in LEVELS else "niveau inconnu"
        official, given = tokens(place.name), tokens(name or "")
        if given and given[:len(official)] != official:
            return f"le COG donne « {place.name} » pour ce code"
        return None


def links_for_publication(matcher: Matcher, title: str, summary: str | None, categories: list[str],
                          declared: list[str], producer: tuple, declared_method: str = "curation",
                          from_summary: bool = True) -> list[tuple[str, str, str]]:
    """[(niveau, code, methode)] for one publication, each territory once, most specific method first.
    Declared territories come first, with `declared_method` (curation, or catalogue). A catalogue's
    summaries are the cataloguer's own sentences, which compare places ("as in Mayotte"):
    from_summary=False links from the title only."""
    departements, regions = matcher.context([title, summary or "", *categories], producer)
    links: dict[tuple, str] = {}

    def add(place: Place | None, method: str):
        if place is not None:
            links.setdefault((place.level, place.code), method)

    for reference in declared:
        add(matcher.declared(reference), declared_method)
    for place in matcher.match(title, departements, regions):
        add(place, "titre")
    for category in categories:
        # a category is a label on its own: "Nord" or "Orange" there is meant as a place name
        spans = matcher.spans(category)
        if len(spans) == 1 and len(spans[0].key) == len(tokens(category)):
            span = replace(spans[0], sentence_start=False, cue_before=True)
            for place in matcher.resolve(span, departements, regions):
                add(place, "categorie")
    for place in matcher.match(summary or "", departements, regions) if from_summary else ():
        add(place, "resume")
    level, code = producer
    if level and code:
        add(matcher.by_code.get((level, str(code))), "producteur")
    return [(level, code, method) for (level, code), method in
            sorted(links.items(), key=lambda item: (LEVELS[item[0][0]].rank, item[0][1]))]
