"""French number parsing: the table of decisions documented in loaders/common/numbers.py."""

import pytest

from loaders.common.numbers import parse_number

CASES = [
    ("1 234,5", 1234.5),
    ("1\u202f234,5", 1234.5),  # narrow no-break space (INSEE, typographic exports)
    ("1\u00a0234", 1234),  # no-break space
    ("1\u2009234", 1234),  # thin space
    ("1'234", 1234),
    ("12,3 %", 12.3),
    ("12,3%", 12.3),
    ("-4,2", -4.2),
    ("−4,2", -4.2),  # U+2212 minus sign
    ("+7", 7),
    ("1.234,5", 1234.5),  # dot thousands, comma decimal
    ("1.234.567", 1234567),  # several dots: thousands
    ("1,234.5", 1234.5),  # English style with both separators
    ("1234.5", 1234.5),  # single dot: decimal point (OpenDataSoft, spreadsheets)
    ("1.234", 1.234),  # single dot: decimal point, never thousands
    ("0,5", 0.5),
    ("348215427.18", 348215427.18),
    ("33 018 544", 33018544),
    ("  42  ", 42),
    ("1 286,35 €", 1286.35),
    ("1 501,12 €/hab.", 1501.12),
    ("230 890 hab.", 230890),
    ("50,39 km²", 50.39),
    ("3 ‰", 3),
    (860, 860),  # already typed by the XLSX reader
    (50.281, 50.281),
    (None, None),
    ("", None),
    ("   ", None),
    ("(secret)", None),
    ("secret", None),
    ("s", None),
    ("n.d.", None),
    ("N.D.", None),
    ("nd", None),
    ("n.c.", None),
    ("-", None),
    ("–", None),
    ("…", None),
    ("NaN", None),
    (float("nan"), None),
]


@pytest.mark.parametrize("raw,expected", CASES)
def test_parse_number(raw, expected):
    value = parse_number(raw)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)
        assert isinstance(value, int) == isinstance(expected, int)


@pytest.mark.parametrize("raw", ["abc", "12 abc", "1,234,567", "1.23.4", "(12,5)", "1,2.3,4", ",5", "5.", True,
                                 "12-3", "1 234,5,6"])
def test_unreadable_numbers_raise_in_french(raw):
    with pytest.raises(ValueError) as error:
        parse_number(raw)
    assert "nombre" in str(error.value) or "valeur" in str(error.value)
