"""The bounded memo of weight-only figures: hits, misses, least-recently-used eviction, threads."""

from __future__ import annotations

import threading

import pytest

from singularity_dash.memo import LruMemo


def test_builds_once_per_key_and_evicts_the_least_recently_used():
    memo = LruMemo(2)
    built = []

    def build(key):
        return lambda: built.append(key) or f"value {key}"

    assert memo.get_or_build("a", build("a")) == "value a"
    assert memo.get_or_build("a", build("a")) == "value a"
    memo.get_or_build("b", build("b"))
    memo.get_or_build("a", build("a"))  # "a" is now the most recently used
    memo.get_or_build("c", build("c"))  # evicts "b"
    assert len(memo) == 2
    memo.get_or_build("a", build("a"))
    memo.get_or_build("b", build("b"))
    assert built == ["a", "b", "c", "b"]
    assert (memo.hits, memo.misses) == (3, 4)


def test_threads_share_one_value_per_key():
    memo = LruMemo(64)
    results = []

    def work(i):
        results.append(memo.get_or_build(i % 8, lambda: ("figure", i % 8)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(results)) == [("figure", k) for k in range(8)]
    assert len(memo) == 8 and memo.hits + memo.misses == 64


def test_refuses_a_size_below_one():
    with pytest.raises(ValueError):
        LruMemo(0)
