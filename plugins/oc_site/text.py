"""Text normalisation shared by the search index (at build time) and the search page (at query time)."""

import re
import unicodedata

# Control characters: C0 (but tab and line breaks), DEL and C1; the bidirectional embeddings, overrides and
# isolates (U+202E turns "gpj.exe" into what reads "exe.jpg"); and what XML 1.0 cannot carry at all (U+FFFE,
# U+FFFF, lone surrogates): one of them in a harvested title made /publications.atom invalid XML.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]")
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_NON_WORD = re.compile(r"[^0-9a-z]+")


def strip_controls(text: str) -> str:
    """`text` without control characters (see _CONTROLS); tabs and line breaks are kept."""
    return _CONTROLS.sub("", text)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("œ", "oe").replace(
        "æ", "ae"
    )


def tokens(text: str) -> list[str]:
    """Lower-case ASCII words, hyphens and apostrophes as separators, "St"/"Ste" expanded.

    >>> tokens("L'Haÿ-les-Roses")
    ['l', 'hay', 'les', 'roses']
    >>> tokens("St-Denis")
    ['saint', 'denis']
    """
    words = _NON_WORD.split(strip_accents(text.lower()))
    return [ABBREVIATIONS.get(w, w) for w in words if w]


def normalise(text: str) -> str:
    return " ".join(tokens(text))


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def french_date(iso: str | None) -> str | None:
    """« 2026-03-20 » → « 20 mars 2026 » (« 1er » for the first day); None or an unreadable text as it is.

    >>> french_date("2026-03-01")
    '1er mars 2026'
    """
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return iso
    day = int(match.group(3))
    return f"{'1er' if day == 1 else day} {MONTHS[int(match.group(2)) - 1]} {match.group(1)}"


# First letters before which « de » is elided (« d'Ajaccio », « d'Île-de-France », « d'Yvetot »). A name
# beginning with h is left alone: h muet (« d'Hyères ») and h aspiré (« de Hautmont ») cannot be told apart.
_ELIDING = frozenset("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸŒÆ")


def de(name: str) -> str:
    """« de » before a territory's name, elided or contracted with its article: the one place the site
    writes it (templates: the filter `de`).

    >>> [de(n) for n in ("Rennes", "Ajaccio", "Île-de-France", "Le Havre", "Les Abymes", "La Rochelle")]
    ['de Rennes', "d'Ajaccio", "d'Île-de-France", 'du Havre', 'des Abymes', 'de La Rochelle']
    """
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in _ELIDING:
        return "d'" + name
    return "de " + name
