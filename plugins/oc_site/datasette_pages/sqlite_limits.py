"""What one SQL query may cost the site: limits set on every SQLite connection it opens.

Datasette's time limit (sql_time_limit_ms) is checked by a progress handler between SQLite's
virtual-machine instructions; a single instruction that runs long escapes it. The functions
that can do so are those whose work grows with their arguments: printf('%.*c', 900000000, 'x'),
randomblob(900000000), hex(…), zeroblob, replace, instr (quadratic: text × pattern), trim with a
set of characters (text × set). Bounding the length of any string or blob bounds most of them; the
others are replaced or checked:

- LIMITS: SQLite's own limits (sqlite3.Connection.setlimit). A string or blob of 256 Kio at most
  (the longest value in oc.db is about 2 000 characters): a longer one fails at once with
  « string or blob too big »; at that size the quadratic replace/instr take 0.35 s at worst on
  the 2-core test machine. LIKE/GLOB patterns of 1 000 characters; 500 columns in a result.
- printf() and format(): SQLite 3.40 repeats a %c as many times as its precision says even once the
  string is past the length limit (15 s for printf('%.*c', 900000000, 'x'), which returns NULL):
  they are checked first (no width or precision above the length limit), then run by SQLite.
- trim, ltrim and rtrim with a set of characters: SQLite compares every character of the text
  with every character of the set (4.9 s for 64 Kio against 32 Kio, 143 s at 256 Kio); they are
  replaced by Python's str.strip, which is linear.
- RESULT_MAX_CHARACTERS: the text and blobs a query hands back to Python, counted row by row as
  they are fetched (5 000 rows of 256 Kio would still be 1.3 Go); past it the query stops with a
  French message (ResultTooLarge). The complete exports (http/exports.py) read on connections of
  their own without this budget (every other limit holds): they read whole tables, views and canned
  queries, never a visitor's SQL.
- HEAP_LIMIT: all of SQLite's memory in the process (PRAGMA hard_heap_limit), a last bound for
  what a query holds inside SQLite (sorts, wide rows); past it the query fails with
  « out of memory » (Python raises MemoryError). Below it, SOFT_HEAP_LIMIT (PRAGMA soft_heap_limit)
  makes SQLite give back the page caches of its connections first: on the 290 Mo database, the caches
  of many connections alone would otherwise reach the hard limit and make ordinary queries fail.
- fts3_tokenizer() is refused by an authorizer (« not authorized to use function »): given a
  tokenizer name it returns a pointer, i.e. a memory address of the server process.
"""

import re
import sqlite3
import threading
import weakref


LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 256 * 1024,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1000,
    sqlite3.SQLITE_LIMIT_COLUMN: 500,
}
RESULT_MAX_CHARACTERS = 20 * 1000 * 1000
HEAP_LIMIT = 256 * 1024 * 1024
SOFT_HEAP_LIMIT = HEAP_LIMIT // 2
REFUSED_FUNCTIONS = {"fts3_tokenizer"}


def megabytes(size: int) -> str:
    return f"{size / 1e6:g} Mo".replace(".", ",")


def kibibytes(size: int) -> str:
    return f"{size // 1024} Kio"


class ResultTooLarge(sqlite3.OperationalError):
    """A query handed back more text or blobs than RESULT_MAX_CHARACTERS (an OperationalError, so that
    Datasette treats it as any other SQL error: HTTP 400 with the message)."""

    def __init__(self):
        super().__init__(
            f"Résultat trop volumineux : une requête peut renvoyer au plus {megabytes(RESULT_MAX_CHARACTERS)} "
            "de texte. Ajoutez une clause limit, sélectionnez moins de colonnes, ou téléchargez la table "
            "entière en CSV (export complet) ou la base oc.db.")


def result_budget_row_factory(limit: int = RESULT_MAX_CHARACTERS):
    """A row factory (sqlite3.Row rows, as Datasette's) that stops a cursor past `limit` characters of
    text and bytes of blobs. One per connection: a connection runs one query at a time."""
    state = {"cursor": lambda: None, "size": 0}

    def row_factory(cursor, row):
        if state["cursor"]() is not cursor:
            state["cursor"], state["size"] = weakref.ref(cursor), 0
        size = state["size"]
        for value in row:
            if value.__class__ is str or value.__class__ is bytes:
                size += len(value)
        if size > limit:
            raise ResultTooLarge()
        state["size"] = size
        return sqlite3.Row(cursor, row)

    return row_factory


def as_text(value) -> str:
    """A value as SQLite's trim reads it: as text (blobs decoded as UTF-8)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def linear_trim(strip):
    """trim(X, Y), ltrim(X, Y), rtrim(X, Y) with Python's linear str methods (same results on text)."""

    def trim(text, characters):
        if text is None or characters is None:
            return None
        return strip(as_text(text), as_text(characters))

    return trim


FLAGS = "-+ #0,!"


def as_integer(value) -> int:
    """The largest integer SQLite could read from a printf argument (int, real, text or blob)."""
    if value is None:
        return 0
    if isinstance(value, (int, float)):
        return abs(int(value)) if value == value and abs(value) != float("inf") else 0
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    candidates = [int(m.group()) for m in re.finditer(r"\d+", text[:40])]
    try:
        number = float(text.strip())
        candidates.append(int(abs(number)) if number == number and abs(number) != float("inf") else 0)
    except ValueError:
        pass
    return max(candidates, default=0)


def printf_widths(fmt: str, args: tuple) -> list[int]:
    """Every width and precision of a printf format, literal or taken from the arguments (*), walked
    as SQLite's printf walks it (flags, width, .precision, l or ll, then the conversion)."""
    widths, position, i = [], 0, 0
    while True:
        i = fmt.find("%", i)
        if i < 0 or i + 1 >= len(fmt):
            return widths
        i += 1
        while i < len(fmt) and fmt[i] in FLAGS:
            i += 1
        for part in ("width", "precision"):
            if part == "precision":
                if i >= len(fmt) or fmt[i] != ".":
                    break
                i += 1
            if i < len(fmt) and fmt[i] == "*":
                widths.append(as_integer(args[position]) if position < len(args) else 0)
                position += 1
                i += 1
            else:
                digits = re.match(r"\d*", fmt[i:]).group()
                widths.append(int(digits) if digits else 0)
                i += len(digits)
        while i < len(fmt) and fmt[i] == "l":
            i += 1
        if i < len(fmt) and fmt[i] != "%":
            position += 1  # the converted value
        i += 1


_formatters = threading.local()
# handed back to SQLite, a value longer than the limit makes it fail with SQLITE_TOOBIG (raising from
# a Python function would print a traceback on the server's error output for every refusal)
TOO_BIG = bytes(LIMITS[sqlite3.SQLITE_LIMIT_LENGTH] + 1)


def bounded_printf(fmt, *args):
    """printf()/format() refusing widths and precisions above the length limit ("string or blob too
    big", as SQLite's own limit), then formatted by SQLite itself on a private connection."""
    if fmt is None:
        return None
    if max(printf_widths(str(fmt), args), default=0) > LIMITS[sqlite3.SQLITE_LIMIT_LENGTH]:
        return TOO_BIG
    formatter = getattr(_formatters, "connection", None)
    if formatter is None:
        formatter = _formatters.connection = sqlite3.connect(":memory:", check_same_thread=False)
        for category, value in LIMITS.items():
            formatter.setlimit(category, value)
    marks = ", ".join("?" * (len(args) + 1))
    return formatter.execute(f"SELECT printf({marks})", (fmt, *args)).fetchone()[0]


def french_message(exception: BaseException) -> str | None:
    """The French message for a query stopped by one of these limits, or None."""
    text = str(exception)
    if isinstance(exception, MemoryError) or text == "out of memory":
        return (f"Requête trop gourmande en mémoire : ce site accorde au plus {megabytes(HEAP_LIMIT)} à SQLite "
                "pour l'ensemble des requêtes en cours. Simplifiez la requête ou ajoutez une clause limit.")
    if text == "string or blob too big":
        return (f"Valeur trop longue : ce site refuse toute chaîne ou tout blob de plus de "
                f"{kibibytes(LIMITS[sqlite3.SQLITE_LIMIT_LENGTH])} (et toute largeur ou précision de printf "
                "au-delà). Réduisez la taille demandée.")
    if text == "LIKE or GLOB pattern too complex":
        return (f"Motif LIKE ou GLOB trop long : {LIMITS[sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH]} caractères "
                "au plus.")
    if text.startswith("not authorized to use function: "):
        return f"Fonction désactivée sur ce site : {text.rsplit(': ', 1)[1]}."
    if isinstance(exception, ResultTooLarge):
        return text
    return None


def refuse_functions(action, arg1, arg2, database, source):
    """Authorizer: deny the functions of REFUSED_FUNCTIONS (SQLite answers « not authorized »)."""
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def restrict(conn: sqlite3.Connection):
    """Apply the limits to one connection (called for every connection Datasette opens)."""
    for category, value in LIMITS.items():
        conn.setlimit(category, value)
    for name, strip in (("trim", lambda t, c: t.strip(c)), ("ltrim", lambda t, c: t.lstrip(c)),
                        ("rtrim", lambda t, c: t.rstrip(c))):
        conn.create_function(name, 2, linear_trim(strip), deterministic=True)
    for name in ("printf", "format"):
        conn.create_function(name, -1, bounded_printf, deterministic=True)
    conn.set_authorizer(refuse_functions)
    conn.row_factory = result_budget_row_factory()


def limit_heap(conn: sqlite3.Connection):
    """Set SQLite's process-wide heap limits (hard, and soft: caches given back first), unless lower
    ones are already set."""
    current = conn.execute("PRAGMA hard_heap_limit").fetchone()[0]
    if current == 0 or current > HEAP_LIMIT:
        conn.execute(f"PRAGMA hard_heap_limit = {HEAP_LIMIT}")
    current = conn.execute("PRAGMA soft_heap_limit").fetchone()[0]
    if current == 0 or current > SOFT_HEAP_LIMIT:
        conn.execute(f"PRAGMA soft_heap_limit = {SOFT_HEAP_LIMIT}")


def prepare_connection(conn):
    """On every connection the site opens (the `oc` database, `_memory`, `_internal`)."""
    restrict(conn)
    limit_heap(conn)
