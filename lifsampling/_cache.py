"""Where lifsampling caches calibrations and compiled networks (private).

Entries are keyed by a hash of everything they depend on, so a changed input
can never pick up a stale entry.

JSON entries are safe under several processes sharing one cache directory:

* they are written to a temporary file and moved into place with
  :func:`os.replace` (:mod:`lifsampling._io`), so a reader sees the old entry,
  the new one or none, never half a file;
* they carry a SHA-256 checksum of their content (:func:`with_checksum`), so a
  damaged entry (truncated, edited, flipped bytes) is detected on reading;
* :func:`load_or_compute` measures a missing entry under a file lock, so two
  processes that need the same entry at once compute it once: the second waits
  and reads what the first wrote;
* a damaged entry is reported (:class:`CacheEntryWarning`, naming the file) and
  rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: Key of the checksum inside a JSON entry.
CHECKSUM_KEY = "checksum"


class CacheEntryWarning(UserWarning):
    """A cache entry was damaged or unreadable; it is rebuilt."""


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


def _digest(d: dict) -> str:
    body = {k: v for k, v in d.items() if k != CHECKSUM_KEY}
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def with_checksum(d: dict) -> dict:
    """``d`` plus a ``"checksum"`` of all its other keys (JSON round trips keep it valid)."""
    return {**{k: v for k, v in d.items() if k != CHECKSUM_KEY}, CHECKSUM_KEY: _digest(d)}


def verify_checksum(d: dict, what: str, *, required: bool = False) -> None:
    """Raise ``ValueError`` naming ``what`` if ``d``'s checksum does not match its content.

    A dict without a checksum passes unless ``required`` (files written by
    older versions, or by hand, have none).
    """
    recorded = d.get(CHECKSUM_KEY)
    if recorded is None:
        if required:
            raise ValueError(f"{what} has no checksum; it was not written by lifsampling.")
        return
    if recorded != _digest(d):
        raise ValueError(
            f"{what} fails its checksum: its content was changed or damaged after it was written."
        )


def read_json(path: str | os.PathLike, what: str) -> dict:
    """Parse a JSON object from ``path`` or raise one ``ValueError`` naming the file."""
    path = os.fspath(path)
    try:
        d = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path!r}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"cannot read {what} {path!r}: it is truncated, damaged or not JSON ({exc})."
        ) from None
    if not isinstance(d, dict):
        raise ValueError(f"{what} {path!r} does not hold a JSON object.")
    return d


def lock_path(path: Path) -> Path:
    """Lock file of the entry ``path``: ``<cache>/.locks/<kind>/<entry>.lock``.

    Lock files stay (deleting one while another process waits on it would let two
    processes hold "the" lock); they live apart so that a kind's directory holds entries only.
    """
    return path.parent.parent / ".locks" / path.parent.name / f"{path.name}.lock"


def _try_load(path: Path, load: Callable[[Path], T], warn: bool) -> tuple[T | None, bool]:
    """(entry or None, whether the file exists but is damaged)."""
    if not path.exists():
        return None, False
    try:
        return load(path), False
    except ValueError as exc:
        if warn:
            warnings.warn(
                f"cache entry {os.fspath(path)!r} is damaged and will be rebuilt: {exc}",
                CacheEntryWarning,
                stacklevel=4,
            )
        return None, True


def load_or_compute(
    path: Path, load: Callable[[Path], T], compute: Callable[[], T], save: Callable[[T, Path], None]
) -> T:
    """The cache entry at ``path``, computed and saved (atomically) if missing or damaged.

    ``load`` must raise ``ValueError`` for a damaged entry.  Computing holds a
    file lock (:func:`lock_path`), so concurrent callers for the same entry
    compute it once; readers of an existing entry take no lock (entries are
    replaced atomically, never written in place).
    """
    from brian2.utils.filelock import FileLock

    entry, damaged = _try_load(path, load, warn=True)
    if entry is not None:
        return entry
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(os.fspath(lock)):
        entry, _ = _try_load(path, load, warn=not damaged)  # another process may have written it
        if entry is not None:
            return entry
        entry = compute()
        save(entry, path)
    return entry
