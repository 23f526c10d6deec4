"""Compiled C++ standalone networks, built once per structure and rerun with new data (private).

Brian2's ``cpp_standalone`` device turns a network into a C++ project and a
binary.  A plain ``device.build()`` regenerates every file and bakes parameter
values, the run length and the seed into ``main.cpp``, so a new bias, duration
or seed costs code generation and a recompile.  Here a project is built once
per *structure* (everything that changes the generated code: equations,
numbers of neurons and synapses, connectivity, dt, Brian2 version) and kept in
the cache directory; every run then executes the binary directly with

* every parameter value Brian2 would have set (leak potentials, weights, noise
  rates, initial potentials, …) passed as command-line *run arguments*
  (``group.variable=file``), which Brian2's ``main.cpp`` applies before the run;
* the duration and the seed read from environment variables
  (``LIFSAMPLING_DURATION`` in seconds, ``LIFSAMPLING_SEED``): the compiled run
  has length zero and is followed by a run of the requested length;
* a private results directory, so that concurrent runs of one binary (several
  processes, Dask workers) never share files.

The values are collected generically: the network is created with the
standalone device active but never built, and the device's queue of
assignments (``set_by_array``/``set_by_constant``/``set_by_single_value``) is
read back.  Builds take a file lock and write their manifest last, so a
half-built project is never run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._io import write_text_atomic

_CPP_DIR = Path(__file__).with_name("_cpp")

#: Version of the project layout, manifest and generated model; part of the project key.
#: 2: membrane update with lifsampling_exp.  3: no clock read per time step.
FORMAT = 3
MANIFEST = "lifsampling_manifest.json"

_SEED_CODE = """
{
    const char* _seed_text = std::getenv("LIFSAMPLING_SEED");
    const unsigned long _seed = _seed_text ? std::strtoul(_seed_text, nullptr, 10) : 0UL;
    for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)
        brian::_random_generators[_i].seed(_seed + _i);
}
"""

_DURATION_CODE = """
{
    const char* _duration_text = std::getenv("LIFSAMPLING_DURATION");
    const double _duration = _duration_text ? std::strtod(_duration_text, nullptr) : 0.0;
    if (_duration > 0.0)
        %(network)s.run(_duration, NULL, 10.0);
}
"""


@dataclass(frozen=True)
class RunOutput:
    """Spikes of one run: neuron indices and spike times [s], in order of time."""

    indices: np.ndarray
    times: np.ndarray


def project_key(description: object, device) -> str:
    """Key of the standalone project of the network queued on ``device``.

    ``description`` (JSON-serialisable) names what decides the generated code;
    added to it are every queued array that cannot be a run argument (the
    connectivity: synapses created from index arrays), the values of read-only
    variables, lifsampling's C++ headers, :data:`FORMAT`, and the Brian2
    version and compiler settings.
    """
    import brian2

    h = hashlib.sha256()
    h.update(json.dumps([description, FORMAT, brian2.__version__], sort_keys=True).encode())
    for header in sorted(_CPP_DIR.glob("*.h")):  # lifsampling's own C++ code
        h.update(header.name.encode() + header.read_bytes())
    by_array = _variables_by_array(device)
    settable = set()
    for func, args in device.main_queue:
        if func.startswith("set_"):
            var = by_array.get(args[0])
            if var is not None and not var.read_only and func == "set_by_array":
                settable.add(args[1])  # a run argument
            elif var is None or var.read_only:
                h.update(repr((func, args)).encode())  # structure
    for name in sorted(device.static_arrays):
        if name not in settable:
            a = np.ascontiguousarray(device.static_arrays[name])
            h.update(name.encode() + str(a.dtype).encode() + a.tobytes())
    for pref in ("codegen.cpp.extra_compile_args", "codegen.cpp.define_macros", "codegen.cpp.headers"):
        h.update(repr(brian2.prefs[pref]).encode())
    return h.hexdigest()[:20]


def _variables_by_array(device) -> dict:
    """The device's variables by the array names used in its queue."""
    return {device.get_array_name(var, access_data=False): var for var in device.arrays}


def _scalar_text(value) -> str:
    """A run-argument value Brian2's ``main.cpp`` parses as a number (not as a file name)."""
    text = "1" if value is True else "0" if value is False else format(float(value), ".17g")
    if not (text[0].isdigit() or text[0] == "-"):
        raise ValueError(f"cannot pass the non-finite value {value!r} as a run argument")
    return text


def queued_values(device) -> dict[str, np.ndarray | str]:
    """Every value the device would assign before the run, by run-argument name.

    Arrays are passed to the binary as files, constants as numbers.
    """
    by_array = _variables_by_array(device)
    values: dict[str, np.ndarray | str] = {}
    for func, args in device.main_queue:
        if func not in ("set_by_single_value", "set_by_constant", "set_by_array", "set_array_by_array"):
            continue
        var = by_array.get(args[0])
        if var is None or var.read_only:
            continue  # structure (connectivity), part of the project key
        name = f"{var.owner.name}.{var.name}"
        if func == "set_array_by_array":
            raise NotImplementedError(f"indexed assignment of {name} cannot be a run argument")
        if func == "set_by_array":
            values[name] = np.ascontiguousarray(device.static_arrays[args[1]], dtype=var.dtype)
        elif func == "set_by_constant":
            values[name] = _scalar_text(args[1])
        else:  # set_by_single_value: one element, value rendered as C++ code
            if args[1] != 0 or var.size != 1:
                raise NotImplementedError(f"single-element assignment of {name} cannot be a run argument")
            text = args[2].replace(" ", "").replace("(", "").replace(")", "")
            value = {"true": True, "false": False}.get(text.lower())
            values[name] = _scalar_text(float(text) if value is None else value)
    return values


#: Brian2 2.9's network loop reads the process CPU clock (a system call) after every
#: time step, only to report the elapsed time at the end of the run (~8 % of a run).
_PER_STEP_CLOCK = """
        current = std::clock();
        elapsed_realtime = (double)(current - start)/(1 * CLOCKS_PER_SEC);
"""
_AFTER_LOOP = """
    Network::_globally_running = false;
"""


def _drop_per_step_clock(network_cpp: Path) -> None:
    """Measure the elapsed time once after the loop instead of after every step.

    Leaves the file as it is if it does not have the expected shape (another
    Brian2 version): then only the optimisation is lost.
    """
    text = network_cpp.read_text()
    if text.count(_PER_STEP_CLOCK) != 1 or text.count(_AFTER_LOOP) != 1:
        return
    text = text.replace(_PER_STEP_CLOCK, "\n").replace(
        _AFTER_LOOP,
        "\n    elapsed_realtime = (double)(std::clock() - start) / CLOCKS_PER_SEC;" + _AFTER_LOOP,
    )
    network_cpp.write_text(text)


class CorruptProjectError(RuntimeError):
    """A cached standalone project whose manifest or binary is damaged."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_or_build(directory: Path, build) -> StandaloneProject:
    """The project in ``directory``; ``build(directory)`` makes it if it is missing or damaged.

    Builds hold a file lock next to the directory, so concurrent processes build
    a structure once; the manifest (with the binary's checksum) is written last,
    so a half-built project is never run.  A damaged project is reported with a
    warning and rebuilt.
    """
    from brian2.utils.filelock import FileLock

    def attempt() -> StandaloneProject | None:
        try:
            return StandaloneProject.load(directory)
        except CorruptProjectError as error:
            warnings.warn(f"{error}; rebuilding it.", RuntimeWarning, stacklevel=4)
            shutil.rmtree(directory, ignore_errors=True)
            return None

    project = attempt()
    if project is None:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(directory) + ".lock"):
            project = attempt()  # built by another process meanwhile?
            if project is None:
                directory.mkdir(parents=True, exist_ok=True)
                project = build(directory)
    return project


class StandaloneProject:
    """A compiled standalone project in ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path, manifest: dict) -> None:
        self.directory = directory
        self.manifest = manifest

    @classmethod
    def load(cls, directory: Path) -> StandaloneProject | None:
        """The project in ``directory``, or None if it is not built (or built by other code).

        Raises :class:`CorruptProjectError` if the manifest cannot be read or the
        binary does not match the checksum recorded when it was built.
        """
        path = directory / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text())
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            raise CorruptProjectError(f"unreadable manifest {path}: {error}") from error
        if manifest.get("format") != FORMAT:
            return None
        binary = directory / "main"
        if not binary.exists() or _sha256(binary) != manifest.get("binary_sha256"):
            raise CorruptProjectError(f"the binary {binary} is missing or does not match its checksum")
        return cls(directory, manifest)

    @classmethod
    def build(cls, directory: Path, net, monitor, values: dict[str, np.ndarray | str]) -> StandaloneProject:
        """Generate and compile the project of the network ``net`` (device already standalone)."""
        import brian2 as b2

        device = b2.get_device()
        device.insert_code("main", _SEED_CODE)
        device.insert_code("after_network_run", _DURATION_CODE % {"network": net.name})
        net.run(0 * b2.second, namespace={})
        device.build(directory=str(directory), compile=False, run=False, with_output=False)
        _drop_per_step_clock(directory / "network.cpp")
        from brian2.codegen.cpp_prefs import get_compiler_and_args

        device.compile_source(str(directory), get_compiler_and_args()[0], debug=False, clean=False)
        manifest = {
            "format": FORMAT,
            "binary_sha256": _sha256(directory / "main"),
            "run_arguments": sorted(values),
            "spike_indices": device.get_array_filename(monitor.variables["i"]),
            "spike_times": device.get_array_filename(monitor.variables["t"]),
            "index_dtype": np.dtype(monitor.variables["i"].dtype).name,
        }
        write_text_atomic(directory / MANIFEST, json.dumps(manifest, indent=1))
        return cls(directory, manifest)

    def run(self, values: dict[str, np.ndarray | str], duration_s: float, seed: int) -> RunOutput:
        """Run the binary for ``duration_s`` seconds with ``values`` and ``seed``."""
        missing = set(values) - set(self.manifest["run_arguments"])
        if missing:
            raise RuntimeError(
                f"standalone project {self.directory} cannot set {sorted(missing)}; "
                "delete the directory to rebuild it."
            )
        runs = self.directory / "runs"
        runs.mkdir(exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=runs))
        try:
            args = [str(self.directory / "main"), "--results_dir", str(work) + os.sep]
            for name, value in values.items():
                if isinstance(value, str):
                    args.append(f"{name}={value}")
                else:
                    path = work / f"arg_{name}.bin"
                    value.tofile(path)
                    args.append(f"{name}={path}")
            env = dict(
                os.environ, LIFSAMPLING_SEED=str(int(seed)), LIFSAMPLING_DURATION=repr(float(duration_s))
            )
            done = subprocess.run(args, cwd=self.directory, env=env, capture_output=True, text=True)
            if done.returncode != 0 or "Error reading" in done.stderr:
                raise RuntimeError(
                    f"standalone simulation failed (exit code {done.returncode}) in {self.directory}:\n"
                    f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
                )
            idx = np.fromfile(work / self.manifest["spike_indices"], dtype=self.manifest["index_dtype"])
            t = np.fromfile(work / self.manifest["spike_times"], dtype=np.float64)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return RunOutput(idx, t)
