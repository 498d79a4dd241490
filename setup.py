"""Package layout that pyproject.toml cannot express, so the wheel adds only fake_askelephant, reference_client and
contract_tests:

- the repository's scenarios/ folder (YAML only) ships as `fake_askelephant.scenarios.library`;
- wire_schemas/ (the wire format's JSON Schemas and OpenAPI, the neutral home shared by the emulator and its
  judge) ships inside both, as `fake_askelephant.wire_schemas` and `contract_tests.wire_schemas`.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["fake_askelephant*", "reference_client*", "contract_tests*"]),
        "fake_askelephant.scenarios.library",
        "fake_askelephant.wire_schemas",
        "contract_tests.wire_schemas",
    ],
    package_dir={
        "fake_askelephant.scenarios.library": "scenarios",
        "fake_askelephant.wire_schemas": "wire_schemas",
        "contract_tests.wire_schemas": "wire_schemas",
    },
)
