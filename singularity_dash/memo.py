"""A small bounded memo for values that depend only on the committed model files.

Weight-only figures (a layer's weight histogram, a neuron's weight template) are the same for every
user at a given checkpoint, so one process builds each once; keys name what the value depends on,
starting with the weights' sha256. Bounded, so a class clicking through thousands of neurons
cannot grow it without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LruMemo:
    """Thread-safe least-recently-used memo: get_or_build(key, build) calls build() on a miss only."""

    def __init__(self, maxsize: int = 512):
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value stored under key, built (outside the lock) and stored when absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = build()  # two threads may both build a missing key; both get an equal value
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value
