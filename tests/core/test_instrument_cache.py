"""spec2.wcs.instrument_cache: the bounded cache of instrument models shared by the
exposures of a batch."""

from __future__ import annotations

import gc
import threading

import pytest

from spec2.wcs.instrument_cache import InstrumentCache


def test_builds_once_per_key_and_evicts_the_least_recently_used():
    cache, built = InstrumentCache(size=2), []

    def build(key):
        built.append(key)
        return f"model {key}"

    assert cache.get("a", lambda: build("a")) == "model a"
    assert cache.get("a", lambda: build("a")) == "model a"
    cache.get("b", lambda: build("b"))
    cache.get("a", lambda: build("a"))  # a is now the most recently used
    cache.get("c", lambda: build("c"))  # evicts b
    assert len(cache) == 2
    cache.get("a", lambda: build("a"))
    cache.get("b", lambda: build("b"))
    assert built == ["a", "b", "c", "b"]
    assert (cache.hits, cache.misses) == (3, 4)


def test_keeps_the_objects_whose_identity_is_in_the_key():
    """An object keyed by id() is held while its entry lives, so no new object can take
    its id and be served the old value."""

    class Ref:
        pass

    cache = InstrumentCache(size=1)
    ref = Ref()
    key = id(ref)
    cache.get(key, lambda: "built from ref", keep=[ref])
    del ref
    gc.collect()
    fresh = [Ref() for _ in range(100)]
    assert key not in {id(r) for r in fresh}
    cache.get("other", lambda: "other")  # evicted: the object may go now
    assert len(cache) == 1


def test_threads_missing_together_both_get_a_value():
    cache, results = InstrumentCache(size=4), []
    barrier = threading.Barrier(2)

    def build():
        barrier.wait(timeout=5)
        return object()

    threads = [threading.Thread(target=lambda: results.append(cache.get("k", build))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r is not None for r in results)
    assert cache.get("k", lambda: pytest.fail("cached")) in results


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="at least one entry"):
        InstrumentCache(size=0)


def test_a_key_that_cannot_be_hashed_is_built_every_time():
    cache, built = InstrumentCache(size=2), []
    for _ in range(2):
        assert cache.get(("slits", [1, 2]), lambda: built.append(1) or "model") == "model"
    assert built == [1, 1] and len(cache) == 0
