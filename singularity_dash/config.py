"""Settings read from the environment, in one frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
DEFAULT_MODELS_DIR = PROJECT_ROOT / "models"


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    """Everything the app can be told from outside; `from_env()` reads it."""

    models_dir: Path = DEFAULT_MODELS_DIR
    data_dir: Path | None = None  # holds MNIST/raw/*-ubyte; None: no gallery
    redis_url: str | None = None  # shared cache (and background jobs) when set
    cache_timeout: int = 24 * 3600  # seconds a cached trace lives
    cache_threshold: int = 5000  # max entries of the embedded cache per process
    max_upload_bytes: int = 5_000_000
    debug: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> "Config":
        """Read SINGULARITY_* and REDIS_URL variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        data_dir = env.get("SINGULARITY_DATA_DIR")
        return cls(
            models_dir=Path(env.get("SINGULARITY_MODELS_DIR", DEFAULT_MODELS_DIR)),
            data_dir=Path(data_dir) if data_dir else None,
            redis_url=env.get("REDIS_URL") or None,
            cache_timeout=int(env.get("SINGULARITY_CACHE_TIMEOUT", cls.cache_timeout)),
            max_upload_bytes=int(env.get("SINGULARITY_MAX_UPLOAD_BYTES", cls.max_upload_bytes)),
            debug=_env_flag("SINGULARITY_DEBUG"),
        )

    def with_changes(self, **changes) -> "Config":
        """A copy with some settings changed (tests build apps this way)."""
        return replace(self, **changes)
