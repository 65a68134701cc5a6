"""A producer's file host without an API (www.insee.fr/fr/statistiques/fichier/…): the address is the rule's.

INSEE replaces a file in place when it publishes a new edition; the lock's size and SHA-256 tell when
it happened (`oc sources` then reports a changed file, `oc sources --update` pins the new one).
"""

from pathlib import PurePosixPath
from urllib.parse import urlparse

from .resolved import Resolved
from .rules import Rule


def resolve(rule: Rule, vintage: str | None) -> Resolved:
    return Resolved(url=rule.url, title=PurePosixPath(urlparse(rule.url).path).name, vintage=vintage)
