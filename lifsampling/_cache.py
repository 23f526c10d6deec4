"""Where lifsampling caches calibrations and compiled networks (private).

Entries are keyed by a hash of everything they depend on, so a changed input
can never pick up a stale entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def default_cache_dir() -> Path:
    """Cache directory: ``$LIFSAMPLING_CACHE`` or ``$XDG_CACHE_HOME/lifsampling``."""
    env = os.environ.get("LIFSAMPLING_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "lifsampling"


def content_key(inputs: dict, length: int = 20) -> str:
    """A short hash of a JSON-serialisable description."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:length]


def cache_path(cache_dir: str | os.PathLike | None, kind: str, inputs: dict, suffix: str = ".json") -> Path:
    """Path of the cache entry of ``kind`` for ``inputs``."""
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return base / kind / f"{content_key(inputs)}{suffix}"
