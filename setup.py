from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="lifsampling",
    version="0.1.0",
    description=(
        "Sampling-based probabilistic inference with networks of spiking "
        "leaky-integrate-and-fire neurons (Brian2)."
    ),
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8")
    if Path(__file__).with_name("README.md").exists()
    else "",
    long_description_content_type="text/markdown",
    license="LGPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_packages(
        include=["lifsampling", "lifsampling.*", "quantum", "quantum.*", "noise_sources", "noise_sources.*"]
    ),
    package_data={"lifsampling": ["_cpp/*.h"]},  # C++ code of the standalone fast path
    install_requires=[
        "brian2==2.9.0",
        "numpy>=1.26,<2.4",  # brian2 2.9.0 fails to import with numpy >= 2.4
        "scipy>=1.11",
        "xarray>=2024.1",
        "arviz>=0.20,<1",
        "h5netcdf>=1.3",
        "matplotlib>=3.8",
        "tqdm>=4.66",
        "cython>=3.0",  # Brian2's default code-generation target
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "nbclient>=0.10",
            "nbformat>=5.9",
            "ipykernel>=6.29",
            "ruff>=0.6",
            "playwright>=1.40",  # drives the system Chromium in the report's browser test
            "dask[distributed]>=2024.8",  # tests/test_distributed.py and benchmarks/sweep.py
            "hypothesis>=6",  # tests/test_hypothesis_inputs.py: property-based input validation
        ],
        # many runs on many cores or machines: lifsampling.sample_many(client=...)
        "distributed": ["dask[distributed]>=2024.8"],
    },
    entry_points={"console_scripts": ["lifsampling=lifsampling.cli:main"]},
)
