"""Metadata that Datasette 0.65 no longer deep-copies on every permission check.

Datasette 0.65.5 deep-copies the whole metadata each time it checks `view-table`
(`Datasette._table_permission_allows`, which merges table aliases): a table page checks it several
times, the database page once per table. Our metadata describes every column of every table, and
the wide views get one description per indicator (metadata.py): those copies alone took
a quarter of a row page's time, and made Datasette's own pages slower than on a bare Datasette.

That copy protects nothing here: `_table_permission_allows` only reads it (it works on shallow
copies of the levels it changes), and the metadata does not change once the server has started.
So, at start-up, after the other plugins have added what they generate, the top level of the
metadata becomes a read-only dict whose deep copy is itself. Datasette reads exactly the same
metadata; writing to it afterwards raises an error instead of going unnoticed.
"""



class ReadOnlyDict(dict):
    """A dict that refuses changes, so that copying it is pointless: copy.deepcopy returns it as is."""

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def _read_only(self, *args, **kwargs):
        raise TypeError("métadonnées en lecture seule une fois le serveur démarré (oc_site/datasette_pages/frozen_metadata.py)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only


async def freeze(datasette):
    if not isinstance(datasette._metadata_local, ReadOnlyDict):
        datasette._metadata_local = ReadOnlyDict(datasette._metadata_local or {})
