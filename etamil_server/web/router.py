"""Which handler answers a request (HOST.md §4.4).

Interface::

    router = Router([(method, path, handler), ...])   # source order
    router.match("GET", "/orders/7")   -> RouteMatch(handler, {"id": "7"}) | None
    router.allowed_methods("/orders/7") -> ["GET", "DELETE"]

Rules: the exact key ``upper(method) + " " + path`` first (no parameters); otherwise the routes of
that method are tried as patterns (both paths split on ``/``, empty segments dropped; equal segment
counts; each route segment equal to the request segment or starting with ``:``). Several matching
patterns: the first in source order wins (the reference leaves it to hash-map order). A second route
with the same method and path text replaces the first, keeping the first one's place.

Static keys are one dict lookup; patterns are indexed by (method, segment count) so a lookup only
scans the candidates that can match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..lang.shape import path_segments


@dataclass
class RouteMatch:
    handler: Any
    path_params: dict[str, str] = field(default_factory=dict)


split_path = path_segments  # route and request paths split the same way (§4.4)


@dataclass
class _Pattern:
    key: str
    params: list[tuple[int, str]]  # (segment position, parameter name)
    # (segment position, text) of the segments that must be equal: all a lookup compares
    literals: tuple[tuple[int, str], ...]


class Router:
    def __init__(self, routes: list[tuple[str, str, Any]] = ()):
        self._handlers: dict[str, Any] = {}  # "METHOD path" -> handler, first registration's place
        self._methods: dict[str, str] = {}  # key -> method
        self._patterns: dict[tuple[str, int], list[_Pattern]] = {}
        for method, path, handler in routes:
            self.add(method, path, handler)

    def add(self, method: str, path: str, handler: Any) -> None:
        """Register a route (``method`` as registered, upper case for the usual ones)."""
        key = method + " " + path
        replacing = key in self._handlers
        self._handlers[key] = handler
        self._methods[key] = method
        if replacing:
            return
        segments = split_path(path)
        params = [(i, segment[1:]) for i, segment in enumerate(segments) if segment.startswith(":")]
        literals = tuple((i, segment) for i, segment in enumerate(segments) if not segment.startswith(":"))
        self._patterns.setdefault((method, len(segments)), []).append(_Pattern(key, params, literals))

    def match(self, method: str, path: str) -> RouteMatch | None:
        method = method.upper()
        key = method + " " + path
        if key in self._handlers:
            return RouteMatch(self._handlers[key])
        wanted = split_path(path)
        pattern = self._first_pattern(method, wanted)
        if pattern is None:
            return None
        return RouteMatch(self._handlers[pattern.key], {name: wanted[i] for i, name in pattern.params})

    def _first_pattern(self, method: str, wanted: list[str]) -> _Pattern | None:
        for pattern in self._patterns.get((method, len(wanted)), ()):
            for i, have in pattern.literals:
                if wanted[i] != have:
                    break
            else:
                return pattern
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """The methods that have a route answering ``path`` (registration order)."""
        wanted = split_path(path)
        allowed: list[str] = []
        for key, method in self._methods.items():
            if method in allowed:
                continue
            if key == method + " " + path or self._first_pattern(method, wanted) is not None:
                allowed.append(method)
        return allowed

    def keys(self) -> list[str]:
        """The registered ``METHOD path`` keys (duplicates collapsed), registration order."""
        return list(self._handlers)
