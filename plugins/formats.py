"""Jinja filters that write numbers the French way: 230 890 (narrow no-break space), 4 592,3."""

from datasette import hookimpl

NARROW_NBSP = "\u202f"


def nombre_fr(value, decimals=0):
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    text = f"{number:,.{decimals}f}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


@hookimpl
def prepare_jinja2_environment(env):
    env.filters.setdefault("nombre_fr", nombre_fr)
