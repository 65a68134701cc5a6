"""CSV that a spreadsheet opens without running anything: formula injection neutralised.

A spreadsheet program (Excel, LibreOffice Calc) that opens a CSV file reads a cell starting with
`=`, `+`, `-` or `@` as a formula (and a leading tab or carriage return can hide one): a title
harvested from a feed such as `=HYPERLINK("http://…")` or `-2+3+cmd|' /C calc'!A0` would run on
the computer of whoever opens the export. The rule follows the OWASP recommendation: such a cell
gets a leading apostrophe, and the spreadsheet shows it as text ('=HYPERLINK(…)).

A formula may hide behind what a spreadsheet skips at the start of a cell: spaces, a no-break space, a
byte order mark (` =1+1`, `\u00a0=HYPERLINK(…)`, `\ufeff@SUM(…)`): such a cell is neutralised too.

Numbers stay numbers: a cell that is a plain number (`-12`, `-3.5`, `+4`, `-1.2e-5`, `-3,5`) is
written as it is, since a spreadsheet reads it as a number and no formula can hide in it. A
negative value of a numeric column (a population change, a budget balance) therefore still sums in
the spreadsheet. The rule only looks at the text of the cell, so it gives the same result on the
values (CSV written by the site) and on the CSV text (Datasette's exports, rewritten on the way
out). Phone numbers written `+33 …` become text ('+33 …): they are not numbers either way.

The rule is applied on the way out (`CsvSafety` below, a layer of stack.py), for every CSV the site
serves: Datasette's table and query exports (/oc/publications.csv, /oc/valeurs_communes_large.csv,
canned queries…) and the site's own (/comparer.csv). A CSV response is one of type text/csv, or an
address ending in .csv (Datasette serves those as text/plain unless ?_dl=1). The body is rewritten as
it streams, record by record (`CsvNeutraliser`); its length changes, so Content-Length is dropped. A
body already compressed cannot be read: this layer is inside the compression layer, which compresses
what it sends. The site's complete exports (exports.py) write their cells through `neutralise` as they
make them and say so with the response header ALREADY_NEUTRALISED: their body passes as it is (it is
not read twice, and the line that marks an interrupted export stays unfinished), the header is removed.
"""

import codecs
import csv
import io
import re


ALREADY_NEUTRALISED = b"x-oc-csv-neutralise"  # set by a CSV written through `neutralise`, removed here
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# what a spreadsheet may skip before a formula: spaces (ASCII, no-break, narrow and figure spaces, the other
# Unicode spaces), zero-width characters and the byte order mark
SKIPPED = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u202f\u205f\u2060\u3000\ufeff"
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def neutralise(cell: str) -> str:
    """`cell` as a spreadsheet should show it: a formula-looking text gets a leading apostrophe."""
    start = cell.lstrip(SKIPPED) if cell else cell
    if start and start.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(start):
        return "'" + cell
    return cell


def complete_records_end(text: str) -> int:
    """Length of the leading part of `text` made of whole CSV records (ending with a newline outside quotes)."""
    if text.endswith("\n") and text.count('"') % 2 == 0:
        return len(text)  # the usual case: Datasette writes one whole row per chunk
    end, quoted = 0, False
    for match in re.finditer(r'["\n]', text):
        if match.group() == '"':
            quoted = not quoted
        elif not quoted:
            end = match.end()
    return end


def rewrite(text: str) -> str:
    """Whole CSV records → the same records with every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


class CsvNeutraliser:
    """Rewrites a CSV body given in chunks of UTF-8 bytes cut anywhere (in a record, in a character)."""

    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""

    def feed(self, data: bytes) -> bytes:
        text = self.pending + self.decoder.decode(data)
        end = complete_records_end(text)
        self.pending = text[end:]
        return rewrite(text[:end]).encode() if end else b""

    def finish(self) -> bytes:
        text = self.pending + self.decoder.decode(b"", final=True)
        self.pending = ""
        return rewrite(text).encode() if text else b""


def is_csv(scope, headers) -> bool:
    content_type = dict(headers).get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type == b"text/csv":
        return True
    return content_type == b"text/plain" and scope["path"].endswith(".csv")


class CsvSafety:
    """The layer: every CSV response's body rewritten by a CsvNeutraliser as it streams."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        neutraliser = None

        async def rewriting_send(message):
            nonlocal neutraliser
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if ALREADY_NEUTRALISED in names:
                    message = {**message, "headers": [(n, v) for n, v in headers if n.lower() != ALREADY_NEUTRALISED]}
                elif is_csv(scope, headers) and b"content-encoding" not in names:
                    neutraliser = CsvNeutraliser()
                    message = {**message, "headers": [(n, v) for n, v in headers
                                                      if n.lower() != b"content-length"]}
            elif message["type"] == "http.response.body" and neutraliser is not None:
                more = message.get("more_body", False)
                body = neutraliser.feed(message.get("body", b""))
                if not more:
                    body += neutraliser.finish()
                message = {**message, "body": body}
            await send(message)

        return await self.app(scope, receive, rewriting_send)
