"""Checkpoints of long simulations (private): a killed run resumes where it stopped.

A checkpoint holds everything a run needs to continue exactly: the Brian2
network's state (``Network.store``: variables, spike queues in flight, the
random generator), the state of the spike consumer (the read-out's states so
far) and the number of steps done.  It is one file, written atomically
(temporary file + rename) with a SHA-256 checksum of its content, and
identified by a key of everything that determines the run (network, noise,
duration, seed), so that a checkpoint is never continued by another run.

Brian2's runtime simulation gives the same result whether it is run in one
piece or in chunks, and a restored state continues exactly.  Brian2's stored
random state cannot move between processes, so at every checkpoint the random
stream restarts from a seed derived from (seed, step) — in the uninterrupted
run and in a resumed one alike.  A run that is interrupted and resumed
therefore returns exactly the states of the uninterrupted run with the same
seed and checkpoint interval (a run without checkpoints draws other numbers:
same statistics, other samples).
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._io import atomic_path

MAGIC = b"LIFSAMPLING-CHECKPOINT-1\n"


class CheckpointError(RuntimeError):
    """A checkpoint file that is damaged or belongs to another run."""


@dataclass
class Checkpoint:
    """Where and how often a run saves its progress.

    ``every_steps``: simulated time steps between checkpoints (chunk
    boundaries); ``key``: identifies the run (set by the simulation).
    """

    path: Path
    every_steps: int
    key: str = ""

    def load(self) -> dict[str, Any] | None:
        """The saved state of this run, or None if there is no checkpoint yet."""
        if not self.path.exists():
            return None
        data = self.path.read_bytes()
        digest_end = len(MAGIC) + 64
        if not data.startswith(MAGIC) or len(data) < digest_end + 1:
            raise CheckpointError(f"{self.path} is not a lifsampling checkpoint (or is truncated).")
        digest, payload = data[len(MAGIC) : digest_end].decode(), data[digest_end + 1 :]
        if hashlib.sha256(payload).hexdigest() != digest:
            raise CheckpointError(
                f"checkpoint {self.path} is damaged (checksum mismatch); delete it to start the run again."
            )
        state = pickle.loads(payload)
        if state.get("key") != self.key:
            raise CheckpointError(
                f"checkpoint {self.path} belongs to another run (other network, duration or seed); "
                "delete it or choose another checkpoint path."
            )
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` (plus this run's key) atomically."""
        payload = pickle.dumps({**state, "key": self.key}, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic_path(self.path) as tmp:
            with open(tmp, "wb") as f:
                f.write(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
