"""The activation cache: hits return equal arrays, Redis is shared, a dead backend never fails a call."""

import logging

import numpy as np
import pytest

from singularity_dash.cache import ArrayCache, build_cache, pack_arrays, unpack_arrays
from singularity_dash.service import ModelService


def test_pack_roundtrip_and_no_pickles():
    arrays = {"z0": np.arange(5, dtype=np.float32), "a0": np.ones((2, 3))}
    back = unpack_arrays(pack_arrays(arrays))
    assert set(back) == set(arrays)
    for name in arrays:
        np.testing.assert_array_equal(back[name], arrays[name])
    with pytest.raises(ValueError):
        unpack_arrays(pack_arrays({"objects": np.array([{"evil": 1}], dtype=object)}))


def test_foreign_or_damaged_values_are_refused():
    good = pack_arrays({"z0": np.arange(6, dtype=np.float32).reshape(2, 3), "a0": np.zeros(0)})
    assert unpack_arrays(good)["z0"].shape == (2, 3)
    object_header = good.replace(b'"<f4"', b'"|O8"', 1)
    negative = good.replace(b"[2, 3]", b"[-1, 3]", 1)
    for blob in (good[:-1], good + b"\0", b"PK\x03\x04" + good[4:], object_header, negative, good[:6], b"", "text"):
        with pytest.raises(ValueError):
            unpack_arrays(blob)


def test_second_identical_call_is_a_hit_with_equal_arrays(service):
    fresh = ModelService(service.models_dir, build_cache(None))
    x = np.random.default_rng(1).random(784)
    first = fresh.forward("mnist", x)
    second = fresh.forward("mnist", x)
    assert (first.cache_status, second.cache_status) == ("miss", "hit")
    for a, b in zip(first.layers, second.layers):
        np.testing.assert_array_equal(a.z, b.z)
        np.testing.assert_array_equal(a.a, b.a)
    assert fresh.cache.stats.hits == 1 and fresh.cache.stats.misses == 1
    other_checkpoint = fresh.forward("mnist", x, "c0")
    assert other_checkpoint.cache_status == "miss"  # the key includes the weights hash


class BrokenBackend:
    """A backend whose every call fails, like a cache server that went away."""

    def get(self, key):
        raise ConnectionError("cache backend unreachable")

    def set(self, key, value):
        raise ConnectionError("cache backend unreachable")


def test_broken_backend_still_returns_correct_results_and_warns_once(service, caplog):
    broken = ModelService(service.models_dir, ArrayCache(BrokenBackend(), "redis"))
    x = [0.25, 0.75]
    with caplog.at_level(logging.WARNING, logger="singularity_dash.cache"):
        results = [broken.forward("xor", x) for _ in range(3)]
    reference = service.forward("xor", x)
    for trace in results:
        np.testing.assert_array_equal(trace.layers[-1].a, reference.layers[-1].a)
        assert trace.cache_status == "miss"
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
    assert not broken.cache.healthy


def test_redis_is_shared_between_two_services(service, redis_server):
    first = ModelService(service.models_dir, build_cache(redis_server.url))
    second = ModelService(service.models_dir, build_cache(redis_server.url))
    x = np.linspace(0, 1, 784)
    assert first.forward("mnist", x).cache_status == "miss"
    shared = second.forward("mnist", x)
    assert shared.cache_status == "hit"
    np.testing.assert_allclose(shared.layers[-1].a, service.forward("mnist", x).layers[-1].a)


def test_redis_values_are_packed_arrays_not_pickles(service, redis_server):
    import redis

    cache_service = ModelService(service.models_dir, build_cache(redis_server.url))
    cache_service.forward("xor", [1, 1])
    client = redis.Redis.from_url(redis_server.url)
    keys = client.keys("singularity:trace:*")
    assert len(keys) == 1
    value = client.get(keys[0])
    assert value.startswith(b"SGA1")  # our tagged numeric format, not a pickle
    trace = service.forward("xor", [1, 1])
    np.testing.assert_array_equal(unpack_arrays(value)["a1"], trace.layers[1].a)


def test_redis_outage_serves_uncached_then_resumes(service, redis_server, monkeypatch):
    import singularity_dash.cache as cache_module

    monkeypatch.setattr(cache_module, "RETRY_AFTER_SECONDS", 0.0)  # retry at once so the test is quick
    shared = ModelService(service.models_dir, build_cache(redis_server.url))
    assert shared.forward("xor", [0, 1]).cache_status == "miss"
    redis_server.stop()
    during = shared.forward("xor", [0, 1])
    assert during.cache_status == "miss" and during.prediction == 1
    assert not shared.cache.healthy
    redis_server.start()
    assert shared.forward("xor", [0, 1]).cache_status == "miss"  # the restarted server is empty
    assert shared.forward("xor", [0, 1]).cache_status == "hit"
    assert shared.cache.healthy
