"""French number formats, as found in producers' CSV and XLSX files.

`parse_number` is a pure function; its decisions (see tests/test_numbers.py for the table):

- blanks, regular, non-breaking (U+00A0), narrow non-breaking (U+202F) and thin (U+2009) spaces and
  apostrophes are thousands separators and are removed: "1 234,5", "1\u202f234,5", "1'234" ;
- a trailing unit ("%", "‰", "€", "€/hab", "hab.", "km²") is ignored: the unit belongs to the indicator;
- the minus sign may be "-" or "−" (U+2212); "(12,5)" is *not* read as negative (too ambiguous in
  French files, where parentheses hold notes): it is an error;
- comma only → decimal comma: "12,3" = 12.3 ; several commas ("1,234,567") → error (ambiguous);
- dot only → a single dot is a decimal point ("1234.5", "1.234" = 1.234, as exported by OpenDataSoft
  and spreadsheets), several dots are thousands separators ("1.234.567" = 1234567);
- both → the last one is the decimal separator: "1.234,5" = 1234.5, "1,234.5" = 1234.5 ;
- markers of a missing or confidential value give None: "", "-", "–", "—", "s", "(s)", "secret",
  "(secret)", "nd", "n.d.", "n.c.", "nc", "na", "n/a", "so", "s.o.", "x", "…", "NaN" (any case);
- numbers already typed by the reader (int, float from XLSX cells) pass through; bool is an error;
- a number too large for a float ("1" followed by 400 digits, which Python reads as infinity) is an
  error: SQLite would store it as Infinity, and JSON cannot carry it;
- anything else raises ValueError with a French message.

`grouped` writes an integer the French way, for the reports of the build and of `oc sources`.
"""

import math
import re

MISSING = {
    "", "-", "–", "—", "s", "(s)", "secret", "(secret)", "secret statistique", "nd", "n.d.", "n.d",
    "nc", "n.c.", "n.c", "na", "n/a", "so", "s.o.", "x", "…", "...", "nan",
}
SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’]")
UNITS = re.compile(r"(%|‰|€/hab\.?|€|eur|euros?|hab\.?|habitants?|km²|km2)$", re.IGNORECASE)
DIGITS = re.compile(r"^[0-9]+$")
PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # "1234", "-12", "0.5": most cells of big files, read at once


def parse_number(raw) -> float | int | None:
    """A number written the French way (or already typed), None for a missing value."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"valeur booléenne inattendue : « {raw} »")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and math.isnan(raw):
            return None
        if isinstance(raw, float) and math.isinf(raw):
            raise ValueError(f"nombre hors limites : « {raw} »")
        return raw
    text = str(raw).strip()
    plain = PLAIN.fullmatch(text)
    if plain and len(text) < 16:
        return float(text) if plain.group(1) else int(text)
    if text.lower() in MISSING:
        return None
    compact = SPACES.sub("", text)
    compact = UNITS.sub("", compact)
    if compact.lower() in MISSING:
        return None
    sign = ""
    if compact[:1] in ("-", "−", "+"):
        sign = "-" if compact[0] != "+" else ""
        compact = compact[1:]
    if not compact or not re.fullmatch(r"[0-9.,]+", compact) or not compact[0].isdigit():
        raise ValueError(f"nombre illisible : « {text} »")
    commas, dots = compact.count(","), compact.count(".")
    if commas and dots:
        decimal = "," if compact.rfind(",") > compact.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        if compact.count(decimal) > 1:
            raise ValueError(f"nombre illisible (séparateurs incohérents) : « {text} »")
        integer, fraction = compact.split(decimal)
        groups = integer.split(thousands)
        if any(len(g) != 3 for g in groups[1:]):
            raise ValueError(f"nombre illisible (séparateurs de milliers mal placés) : « {text} »")
        normalized = "".join(groups) + "." + fraction
    elif commas > 1:
        raise ValueError(f"nombre ambigu (plusieurs virgules) : « {text} »")
    elif commas == 1:
        normalized = compact.replace(",", ".")
    elif dots > 1:
        groups = compact.split(".")
        if any(len(g) != 3 for g in groups[1:]):
            raise ValueError(f"nombre illisible (séparateurs de milliers mal placés) : « {text} »")
        normalized = "".join(groups)
    else:
        normalized = compact
    if normalized.endswith(".") or normalized.startswith("."):
        raise ValueError(f"nombre illisible : « {text} »")
    value = float(sign + normalized)
    if math.isinf(value):
        raise ValueError(f"nombre hors limites (plus de 308 chiffres) : « {text[:40]}… »")
    if DIGITS.match(normalized) and abs(value) < 2**53:
        return int(sign + normalized)
    return value


def grouped(number: int) -> str:
    """An integer with its thousands separated by narrow no-break spaces, as French writes them: 12 345."""
    return f"{number:,}".replace(",", "\u202f")
