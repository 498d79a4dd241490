"""Package layout that pyproject.toml cannot express: the repository's top-level scenarios/ folder (YAML only)
ships as `fake_askelephant.scenarios.library`, so the wheel adds no top-level `scenarios` package."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["fake_askelephant*", "reference_client*", "contract_tests*"]),
        "fake_askelephant.scenarios.library",
    ],
    package_dir={"fake_askelephant.scenarios.library": "scenarios"},
)
