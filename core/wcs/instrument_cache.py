"""A bounded cache for what an instrument's WCS builds from its reference files and the
exposure's configuration keywords, shared by the exposures of a batch.

Building a spectrograph's instrument model (astropy compound models of the optics, the
per-slit transforms, their bounding boxes) costs more than evaluating it, and dithered
exposures of one observation usually share the whole optical configuration: only the
pointing (the sky end of the chain) differs. A plugin keys what it caches on every value
the cached part depends on, so that an exposure that differs in any of them builds its
own. Reference files are keyed by the identity of their open models: spec2.refs opens a
file once per process for a given path, size and modification time, and the cache holds
the models it was keyed on, so an identity stays theirs while the entry lives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any


class InstrumentCache:
    """Least-recently-used map of ``key -> value`` holding at most ``size`` entries.

    Thread-safe: the build runs outside the lock, so two threads that miss the same key
    at once both build it and the last one to finish is kept (values for one key are
    interchangeable)."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("an InstrumentCache holds at least one entry")
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Any, tuple]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, build: Callable[[], Any], keep: Iterable = ()) -> Any:
        """The value cached under ``key``, or ``build()`` stored under it. ``keep`` are
        objects whose identity the key contains: held with the entry so that no other
        object can take their identity while it is cached. A key that cannot be hashed
        (a value in it is an array, say) is not cached: ``build()`` is returned."""
        try:
            hash(key)
        except TypeError:
            return build()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]
            self.misses += 1
        value = build()
        with self._lock:
            self._entries[key] = (value, tuple(keep))
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)
