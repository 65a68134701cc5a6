"""What resolving a rule gives: the address of the producer's current file and what the producer says of it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Resolved:
    url: str  # the file to download (for an OpenDataSoft export, with its query string)
    title: str  # the resource's title at the producer
    vintage: str | None = None  # year read from the title, or the dataset's version date
    size: int | None = None  # announced by the producer, checked after the download
    checksum: tuple[str, str] | None = None  # (algorithm, hex value) announced by the producer
    modified: str | None = None  # last modification at the producer (ISO 8601)
    page: str | None = None  # the dataset's page, for people
