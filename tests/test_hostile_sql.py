"""Hostile SQL against the site (issue 17, findings 1 and 10): memory bombs, functions that escape the
time limit, results too large, a function leaking a memory address — each refused with a French 4xx;
and what already held (the time limit, read-only, no other statement than SELECT) still holds."""

import re
import sqlite3

import pytest

from oc_site.datasette_pages import sqlite_limits as limites

MEMORY_BOMBS = [
    "select length(printf('%.*c', 900000000, 'x'))",
    "select randomblob(900000000)",
    "select hex(randomblob(400000000))",
    "select zeroblob(900000000)",
    "select printf('%*d', 900000000, 1)",
    "select format('%.*c', '900000000', 'x')",
    "select replace(printf('%.*c', 200000, 'a'), 'a', printf('%.*c', 200000, 'b'))",
]


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("sql", MEMORY_BOMBS)
async def test_memory_bombs_stop_at_the_length_limit_in_french(fixture_ds, sql):
    response = await fixture_ds.client.get("/oc", params={"sql": sql})
    assert response.status_code == 400
    text = visible(response.text)
    # stopped by the length limit, not by the time limit after having run
    assert "Valeur trop longue" in text and "trop de temps" not in text
    data = (await fixture_ds.client.get("/oc.json", params={"sql": sql})).json()
    assert data["ok"] is False and data["error"] == "string or blob too big"


async def test_a_memory_bomb_in_a_table_filter_is_a_400_not_a_500(fixture_ds):
    for path in ("/oc/communes", "/oc/communes.json", "/oc/communes.csv"):
        export = {"_stream": "on"} if path.endswith(".csv") else {}  # the complete export (a CSV is redirected there)
        response = await fixture_ds.client.get(path, params={"_where": "length(randomblob(900000000)) > 0", **export})
        assert response.status_code == 400, path
        assert "Valeur trop longue" in response.text and "256 Kio" in response.text


async def test_printf_and_format_still_format(fixture_ds):
    sql = "select printf('%5.2f|%-4d|%%|%s', 3.14159, 7, 'abc') as a, format('%.*c', 3, 'x') as b"
    rows = (await fixture_ds.client.get("/oc.json", params={"sql": sql, "_shape": "array"})).json()
    assert rows == [{"a": " 3.14|7   |%|abc", "b": "xxx"}]


def test_printf_widths_are_read_as_sqlite_reads_them():
    assert limites.printf_widths("%.*c", (900000000, "x")) == [0, 900000000]
    assert limites.printf_widths("%-*d|%5.3lld %%", ("  70abc", 1, 2)) == [70, 5, 3, 0]
    assert limites.printf_widths("%s %.900000000c", ("a", "b")) == [0, 0, 900000000]
    assert limites.as_integer("9e8") == 900000000 and limites.as_integer(b"12") == 12


async def test_trim_with_a_set_of_characters_is_linear_and_gives_sqlite_results(fixture_ds):
    # SQLite's trim compares each character with the whole set: 4.9 s for 64 Kio against 32 Kio,
    # uninterruptible; the site's connections use a linear one with the same results
    sql = ("select trim('xxabcxx', 'x') as t, ltrim('  a ') as l, rtrim('5.50', '0') as r, "
           "trim(null, 'a') as n, length(trim(printf('%.*c', 65536, 'a'), printf('%.*c', 32768, 'b') || 'a')) as big")
    rows = (await fixture_ds.client.get("/oc.json", params={"sql": sql, "_shape": "array"})).json()
    assert rows == [{"t": "abc", "l": "a ", "r": "5.5", "n": None, "big": 0}]
    own = (await fixture_ds.client.get("/oc.json", params={
        "sql": "select name from pragma_function_list where name in ('trim', 'ltrim', 'rtrim', 'printf', 'format') "
               "and builtin = 0 order by name", "_shape": "arrayfirst"})).json()
    assert own == ["format", "ltrim", "printf", "rtrim", "trim"]


async def test_a_result_past_the_budget_is_refused_in_french(fixture_ds):
    sql = ("with recursive r(n) as (select 1 union all select n + 1 from r limit 4000) "
           "select n, zeroblob(200000) from r")
    response = await fixture_ds.client.get("/oc", params={"sql": sql})
    assert response.status_code == 400 and "Résultat trop volumineux" in visible(response.text)
    data = (await fixture_ds.client.get("/oc.json", params={"sql": sql})).json()
    assert data["ok"] is False and data["error"].startswith("Résultat trop volumineux")
    # an ordinary large page is well within it
    assert (await fixture_ds.client.get("/oc/communes.json?_size=max")).status_code == 200


def test_result_budget_counts_per_query():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = limites.result_budget_row_factory(limit=1000)
    assert len(conn.execute("select zeroblob(600)").fetchall()) == 1
    assert len(conn.execute("select zeroblob(600)").fetchall()) == 1  # a new query starts again
    with pytest.raises(limites.ResultTooLarge):
        conn.execute("select zeroblob(600) from (select 1 union all select 2)").fetchall()


async def test_fts3_tokenizer_does_not_leak_a_memory_address(fixture_ds):
    for name in ("fts3_tokenizer('simple')", "FTS3_TOKENIZER('porter')"):
        response = await fixture_ds.client.get("/oc.json", params={"sql": f"select {name}"})
        assert response.status_code == 400 and "$base64" not in response.text
        html = (await fixture_ds.client.get("/oc", params={"sql": f"select {name}"})).text
        assert "Fonction désactivée sur ce site" in visible(html)


async def test_long_like_patterns_are_a_french_400(fixture_ds):
    response = await fixture_ds.client.get("/oc/communes", params={"nom__contains": "a" * 2000})
    assert response.status_code == 400 and "Motif LIKE ou GLOB trop long" in visible(response.text)


async def test_every_connection_is_limited(fixture_ds):
    limits = (await fixture_ds.client.get("/oc.json", params={
        "sql": "select length(zeroblob(262144)) as ok", "_shape": "array"})).json()
    assert limits == [{"ok": 262144}]
    assert (await fixture_ds.client.get("/oc.json", params={"sql": "select zeroblob(262145)"})).status_code == 400
    # the internal database Datasette opens goes through the same hook
    internal = fixture_ds.get_database("_internal")
    with pytest.raises(sqlite3.DataError):
        await internal.execute("select zeroblob(262145)")
    heap = sqlite3.connect(":memory:").execute("pragma hard_heap_limit").fetchone()[0]
    assert 0 < heap <= limites.HEAP_LIMIT


# --- what held before, and must still hold -----------------------------------------------------------

async def test_runaway_queries_still_stop_at_the_time_limit(fixture_db):
    from bench.site import make_datasette

    ds = make_datasette(fixture_db, sql_time_limit_ms=200)
    sql = "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n"
    response = await ds.client.get("/oc", params={"sql": sql})
    assert response.status_code == 400 and "trop de temps" in visible(response.text)


@pytest.mark.parametrize("sql", [
    "insert into regions(code, nom) values ('99', 'x')",
    "delete from communes",
    "attach database '/tmp/x.db' as x",
    "select 1; drop table communes",
    "pragma writable_schema = 1",
])
async def test_no_statement_can_write(fixture_ds, sql):
    response = await fixture_ds.client.get("/oc.json", params={"sql": sql})
    assert response.status_code == 400
    count = (await fixture_ds.client.get("/oc.json", params={"sql": "select count(*) from communes",
                                                             "_shape": "arrayfirst"})).json()
    assert count[0] > 0
