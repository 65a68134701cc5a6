"""The data of the fiches' bar charts (<bar-chart> elements drawn in SVG by static/graphiques.js, in the
theme's colours), prepared from the tables the fiches already show: the chart draws the same
figures as its table, which stays on the page as its accessible alternative.
"""

from dataclasses import dataclass

MILLION = 1_000_000
TOLERANCE = 0.5  # euros: the producers' amounts are whole euros, a smaller gap is rounding


@dataclass(frozen=True)
class StackedParts:
    """An amount drawn as stacked bars, one bar per year and one colour per part: the bar's height is
    the total, and what the listed parts leave of it is drawn as one more part, `other`."""

    title: str  # of the chart, before « de <territory> »
    total: str  # indicator code of the amount
    parts: tuple[tuple[str, str], ...]  # (indicator code, short label for the legend), bottom first
    other: str  # label of the total less the listed parts, drawn only when it is not zero
    optional: tuple[str, ...] = ()  # parts that may be missing (a row hidden because zero every year, a column
    # some years do not publish): counted 0, as they are not in the total then


def stacked_parts(chart: StackedParts, table: dict) -> dict | None:
    """The chart of `table` (routes.py, by_year: its years, its lines with their values per
    year), or None when it lacks the figures or when the parts exceed the total (the table alone then).

    Only the years where the total and every part have a value are drawn (an optional part without a
    value counts 0: the year's total does not include it); a part that is zero every year is left out of
    the legend. Amounts of a million euros or more are drawn in millions, so that the axis labels stay
    short at 390 px."""
    lines = {line["code"]: line for line in table["lignes"]}
    if chart.total not in lines:
        return None
    if any(code not in lines and code not in chart.optional for code, _ in chart.parts):
        return None
    present = [(code, label) for code, label in chart.parts if code in lines]

    def amount(code, year):
        value = lines[code]["valeurs"].get(year)
        return 0 if value is None and code in chart.optional else value

    codes = [chart.total, *(code for code, _ in present)]
    years = [year for year in table["annees"] if all(isinstance(amount(code, year), (int, float)) for code in codes)]
    if not years:
        return None
    totals = [lines[chart.total]["valeurs"][year] for year in years]
    parts = [(label, [amount(code, year) for year in years]) for code, label in present]
    rest = [total - sum(values[i] for _, values in parts) for i, total in enumerate(totals)]
    if any(value < -TOLERANCE for value in rest):
        return None
    if any(value > TOLERANCE for value in rest):
        parts.append((chart.other, rest))
    parts = [(label, values) for label, values in parts if any(abs(v) > TOLERANCE for v in values)]
    millions = max(totals) >= MILLION
    scale = (lambda v: round(v / MILLION, 3)) if millions else (lambda v: round(v))
    return {
        "titre": chart.title,
        "annees": [str(year) for year in years],
        "noms": [label for label, _ in parts],
        "valeurs": [[scale(v) for v in values] for _, values in parts],
        "unite": "M€" if millions else "€",
        "en_millions": millions,
        "complet": all(abs(value) <= TOLERANCE for value in rest),  # the parts make the total every year
        "producteur": lines[chart.total].get("producteur"),
        "source": lines[chart.total].get("source"),
        "source_url": lines[chart.total].get("source_url"),
    }


def bars(rows, label_key="nom", url=lambda row: None, value_key="population", limit=None):
    """Rows for a horizontal bar chart in pure HTML: value and width in % of the largest."""
    kept = [r for r in rows if r.get(value_key)]
    if limit:
        kept = sorted(kept, key=lambda r: -r[value_key])[:limit]
    biggest = max((r[value_key] for r in kept), default=0) or 1
    return [
        {"nom": r[label_key], "url": url(r), "population": r[value_key],
         "pourcentage": round(100 * r[value_key] / biggest, 1)}
        for r in kept
    ]
