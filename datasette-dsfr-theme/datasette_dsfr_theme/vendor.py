"""Copy the DSFR files the theme needs from an npm ``dist`` folder, keeping only the parts in use.

Usage::

    python -m datasette_dsfr_theme.vendor node_modules/@gouvfr/dsfr/dist [--scan DIR_OR_FILE ...]

The files land in ``datasette_dsfr_theme/static/dsfr/`` (not versioned) and are served by Datasette
under ``/-/static-plugins/datasette-dsfr-theme/dsfr/``.

The whole DSFR is heavy for a page: ``dsfr.min.css`` 730 KB, the icon classes 360 KB, the scripts
115 KB. As the DSFR documents it (each component's README), a site may load the core and only the
components it uses. This module writes, under the usual names:

- ``dsfr.min.css``: the core, the colour schemes (light/dark) and the components whose classes appear
  in the theme's templates and in the ``--scan`` files (the site's templates, scripts, plugins,
  configuration), with the components they depend on, in the DSFR's own order; modern-browser
  builds (``*.main.min.css``), without the Internet Explorer fallbacks;
- ``dsfr.module.min.js``: the core script, the colour-scheme script and the scripts of those components;
- ``utility/icons/icons.min.css``: the rules of the ``fr-icon-*`` classes in use only;
- the icons these stylesheets draw (the SVG files of ``icons/``) written into them as ``data:`` addresses:
  some twenty icons weigh 2 KB compressed in the cached stylesheets, where they were a dozen requests
  of about 1 KB each (headers included) on every first visit of a page.
The fonts, favicons and display-setting pictograms are copied as they are, and so is
``dsfr.nomodule.min.js`` (only very old browsers download it).

One font weight is left out: Marianne Medium (500, upright and italic). Each Marianne weight is a
58 KB download on a page's first visit, and a DSFR page uses three (regular, medium for buttons and
navigation, bold for headings): 177 KB of a fiche's 300 KB. Without a medium face, the browser
draws weight-500 text with the regular face (CSS Fonts, font matching: 500 falls back to 400) — a
barely visible difference on buttons and menu links, and 58 KB less on every first visit.
"""

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

from .config import VENDORED_DSFR_DIR

EXPECTED_MAJOR_MINOR = "1.15"

THEME_DIR = Path(__file__).parent
FILES = [
    "dsfr.nomodule.min.js",
    "favicon/apple-touch-icon.png",
    "favicon/favicon.svg",
    "favicon/favicon.ico",
    "favicon/manifest.webmanifest",
    "favicon/android-chrome-192x192.png",
    "favicon/android-chrome-512x512.png",
    "artwork/pictograms/environment/sun.svg",
    "artwork/pictograms/environment/moon.svg",
    "artwork/pictograms/system/system.svg",
]
# Read from the dist folder to build the bundles.
SOURCES = ["core/core.main.min.css", "scheme/scheme.min.css", "core/core.module.min.js",
           "scheme/scheme.module.min.js", "utility/icons/icons.main.min.css"]
# @font-face rules left out of the bundle (family, weight): see the module's docstring
LEFT_OUT_FONT_FACES = {("Marianne", "500")}
FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
SCANNED_SUFFIXES = {".html", ".js", ".css", ".py", ".yml", ".yaml", ".json"}

CLASS = re.compile(r"(?<![\w-])fr-[a-z0-9]+(?:(?:-|__|--)[a-z0-9]+)*")
# a class a component's stylesheet defines: the start of one of its selectors
OWN_CLASS = re.compile(r"(?:^|[},])\.(fr-[a-z0-9]+(?:(?:-|__|--)[a-z0-9]+)*)")
ICON_CLASS = re.compile(r"(?<![\w-])fr-(?:icon|fi)-[a-z0-9]+(?:-[a-z0-9]+)*")
CSS_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")
BANNER = re.compile(r"^/\*!.*?\*/", re.S)
SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.M)


def dsfr_version(dist: Path):
    package_json = dist.parent / "package.json"
    if package_json.exists():
        return json.loads(package_json.read_text(encoding="utf-8")).get("version")
    return None


# --- what the pages use ------------------------------------------------------------------------------

def scanned_files(paths):
    for path in paths:
        path = Path(path)
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix in SCANNED_SUFFIXES and "dsfr" not in child.relative_to(path).parts:
                    yield child


def used_classes(paths) -> set:
    """Every `fr-…` class name written in the given files (templates, scripts, plugins, configuration)."""
    used = set()
    for path in scanned_files(paths):
        used |= set(CLASS.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return used


# --- components --------------------------------------------------------------------------------------

def component_order(dist: Path) -> list:
    """The components in the order the DSFR concatenates them (src/dsfr/component/main.scss)."""
    main = dist.parent / "src" / "dsfr" / "component" / "main.scss"
    names = re.findall(r"@import '([a-z-]+)/main'", main.read_text(encoding="utf-8")) if main.exists() else \
        sorted(p.name for p in (dist / "component").iterdir() if p.is_dir())
    return [name for name in names if component_css(dist, name)]


def component_css(dist: Path, name: str):
    folder = dist / "component" / name
    for candidate in (folder / f"{name}.main.min.css", folder / f"{name}.min.css"):
        if candidate.exists():
            return candidate
    return None


def dependencies(dist: Path, name: str) -> list:
    """The components a component needs, from the stylesheet list of its README."""
    readme = dist / "component" / name / "README.md"
    if not readme.exists():
        return []
    found = re.findall(r"css/([a-z-]+)/\1\.min\.css", readme.read_text(encoding="utf-8"))
    return [dep for dep in found if dep not in ("core", name)]


def components_in_use(dist: Path, used: set) -> list:
    """The components one of whose own classes is used, and their dependencies, in the DSFR order."""
    order = component_order(dist)
    core = set(OWN_CLASS.findall(BANNER.sub("", (dist / "core/core.main.min.css").read_text(encoding="utf-8"))))
    chosen = set()
    for name in order:
        # a component also styles the core's classes (`.fr-grid-row .fr-tile…`): those do not make it used
        own = set(OWN_CLASS.findall(BANNER.sub("", component_css(dist, name).read_text(encoding="utf-8")))) - core
        if own & used or f"fr-{name}" in used:
            chosen.add(name)
    pending = list(chosen)
    while pending:
        for dep in dependencies(dist, pending.pop()):
            if dep in order and dep not in chosen:
                chosen.add(dep)
                pending.append(dep)
    return [name for name in order if name in chosen]


# --- bundles ---------------------------------------------------------------------------------------

def concatenate(paths) -> str:
    """Files joined, each without its licence banner but the first (one banner per bundle)."""
    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    return "\n".join([texts[0], *(BANNER.sub("", t, count=1).lstrip() for t in texts[1:])])


def css_bundle(dist: Path, components: list) -> str:
    """The stylesheets joined into one file at the root of the dist folder: their relative url()s
    (fonts, icons), written for their own folders, are rewritten for the root."""
    sources = [dist / "core/core.main.min.css", dist / "scheme/scheme.min.css",
               *(component_css(dist, name) for name in components)]
    return without_font_faces(concatenate_rebased(dist, sources))


def without_font_faces(css: str, left_out=frozenset(LEFT_OUT_FONT_FACES)) -> str:
    """The stylesheet without the @font-face rules of the (family, weight) pairs left out."""
    def keep(match):
        rule = match.group(0)
        family = re.search(r"font-family:['\"]?([^;'\"}]+)", rule)
        weight = re.search(r"font-weight:([^;}]+)", rule)
        pair = (family.group(1).strip() if family else "", weight.group(1).strip() if weight else "")
        return "" if pair in left_out else rule

    return FONT_FACE.sub(keep, css)


def concatenate_rebased(dist: Path, sources) -> str:
    texts = [rebase_urls(Path(p).read_text(encoding="utf-8"), Path(p).relative_to(dist).as_posix())
             for p in sources]
    return "\n".join([texts[0], *(BANNER.sub("", t, count=1).lstrip() for t in texts[1:])])


def rebase_urls(css: str, css_path: str) -> str:
    """`css`, written for `css_path` (dist-relative), with its local url()s relative to the dist root."""
    def rebase(match):
        url = match.group(2)
        if url.startswith(("data:", "http:", "https:", "#", "/")):
            return match.group(0)
        return "url({}{}{})".format(match.group(1), resolve(css_path, url), match.group(1))

    return CSS_URL.sub(rebase, css)


def resolve(css_path: str, url: str) -> str:
    """The dist-relative path of `url` as seen from the stylesheet at `css_path`."""
    parts = list(Path(css_path).parent.parts)
    suffix = url[len(url.split("?")[0].split("#")[0]):]
    for part in Path(url.split("?")[0].split("#")[0]).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts) + suffix


def js_bundle(dist: Path, components: list) -> str:
    """The core script then the components' scripts, each in its own block: every file declares the
    same short top-level names (`const e=window.dsfr`), which must not collide once joined."""
    scripts = [dist / "core/core.module.min.js", dist / "scheme/scheme.module.min.js"]  # as src/dsfr/main.js
    scripts += [dist / "component" / name / f"{name}.module.min.js" for name in components
                if (dist / "component" / name / f"{name}.module.min.js").exists()]
    texts = [SOURCE_MAP.sub("", p.read_text(encoding="utf-8")) for p in scripts]
    banner = BANNER.match(texts[0])
    return (banner.group(0) + "\n" if banner else "") + "\n".join(
        "{\n" + BANNER.sub("", text, count=1).strip() + "\n}" for text in texts) + "\n"


def css_rules(css: str):
    """Top-level rules and @-blocks of a minified stylesheet, as (prelude, body) pairs."""
    depth, start, prelude_end = 0, 0, None
    for i, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude_end = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                yield css[start:prelude_end], css[prelude_end + 1:i]
                start = i + 1


def icons_subset(css: str, icons: set) -> str:
    """Only the rules that style one of `icons` (selectors of other icons removed)."""
    kept = []
    banner = BANNER.match(css)
    body = css[banner.end():] if banner else css
    for prelude, block in css_rules(body):
        if prelude.lstrip().startswith("@"):
            inner = icons_subset(block, icons)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
            continue
        selectors = [s for s in prelude.split(",") if set(ICON_CLASS.findall(s)) & icons
                     or not ICON_CLASS.findall(s)]
        if selectors and any(ICON_CLASS.findall(s) for s in selectors):
            kept.append(f"{','.join(selectors)}{{{block}}}")
    return (banner.group(0) if banner else "") + "".join(kept)


def inline_icons(css: str, dist: Path) -> str:
    """`css` (its url()s relative to the dist root) with the SVG icons it loads written in as data: addresses."""
    def inline(match):
        url = match.group(2)
        path = dist / url.split("?")[0].split("#")[0]
        if not (url.startswith("icons/") and url.endswith(".svg") and path.is_file()):
            return match.group(0)
        svg = " ".join(path.read_text(encoding="utf-8").split()).replace('"', "'")
        return 'url("data:image/svg+xml,{}")'.format(quote(svg, safe=" '=/:;,.-_()!*~?&"))

    return CSS_URL.sub(inline, css)


def referenced_files(css: str, css_path: str) -> set:
    """dist-relative paths of the local files a stylesheet at `css_path` loads with url()."""
    return {resolve(css_path, url).split("?")[0].split("#")[0] for _, url in CSS_URL.findall(css)
            if not url.startswith(("data:", "http:", "https:", "#", "/"))}


# --- copy --------------------------------------------------------------------------------------------

def vendor(dist: Path, target: Path = VENDORED_DSFR_DIR, scan=()) -> int:
    dist = Path(dist)
    missing = [name for name in FILES + SOURCES if not (dist / name).exists()]
    if missing:
        raise SystemExit(
            "Dossier dist du DSFR incomplet ({}) : manque {}".format(dist, ", ".join(missing))
        )
    version = dsfr_version(dist)
    if version and not version.startswith(EXPECTED_MAJOR_MINOR + "."):
        print("Attention : DSFR {} trouvé, le thème vise {}.x".format(version, EXPECTED_MAJOR_MINOR),
              file=sys.stderr)
    used = used_classes([THEME_DIR / "templates", THEME_DIR / "static", *scan])
    components = components_in_use(dist, used)
    icons = icons_subset(rebase_urls((dist / "utility/icons/icons.main.min.css").read_text(encoding="utf-8"),
                                     "utility/icons/icons.main.min.css"), {c for c in used if ICON_CLASS.fullmatch(c)})
    bundles = {
        "dsfr.min.css": inline_icons(css_bundle(dist, components), dist),
        "dsfr.module.min.js": js_bundle(dist, components),
        "utility/icons/icons.min.css": inline_icons(icons, dist),
    }
    if target.exists():
        shutil.rmtree(target)
    copied = 0
    for name, text in bundles.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
        copied += 1
    referenced = set()
    for name in ("dsfr.min.css", "utility/icons/icons.min.css"):
        referenced |= referenced_files(bundles[name], "dsfr.min.css")  # url()s relative to the dist root
    for name in sorted(set(FILES) | {r for r in referenced if (dist / r).is_file()}):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dist / name, destination)
        copied += 1
    licence = dist.parent / "LICENSE.md"
    if licence.exists():
        shutil.copyfile(licence, target / "LICENSE.md")
    (target / "VERSION").write_text((version or "inconnue") + "\n", encoding="utf-8")
    (target / "COMPONENTS").write_text("\n".join(components) + "\n", encoding="utf-8")
    return copied


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m datasette_dsfr_theme.vendor",
        description="Copie les fichiers nécessaires du DSFR (dossier dist du paquet npm "
        "@gouvfr/dsfr) dans le plugin, réduits aux composants et aux icônes utilisés.",
    )
    parser.add_argument("dist", help="chemin vers node_modules/@gouvfr/dsfr/dist")
    parser.add_argument(
        "--target",
        default=str(VENDORED_DSFR_DIR),
        help="dossier de destination (par défaut : static/dsfr du plugin)",
    )
    parser.add_argument(
        "--scan", nargs="*", default=[],
        help="fichiers ou dossiers du site où chercher les classes fr-… utilisées, en plus des "
        "gabarits du thème (gabarits, scripts, extensions, metadata.yml)",
    )
    args = parser.parse_args(argv)
    count = vendor(Path(args.dist), Path(args.target), args.scan)
    components = (Path(args.target) / "COMPONENTS").read_text(encoding="utf-8").split()
    print("{} fichiers DSFR copiés dans {} ; composants : {}".format(count, args.target, ", ".join(components)))


if __name__ == "__main__":
    main()
