"""The mapping modules stay pure: importing all of them pulls in no I/O library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("faust", "httpx", "confluent_kafka", "fastapi", "aiokafka", "uvicorn")

PROBE = """
import importlib, json, pkgutil, sys
import streams.mapping
names = [m.name for m in pkgutil.walk_packages(streams.mapping.__path__, "streams.mapping.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_importing_every_mapping_module_loads_no_io_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    assert "streams.mapping.validate" in report["modules"]
    assert "streams.mapping.loader" in report["modules"]
    assert [name for name in FORBIDDEN if name in report["loaded"]] == []
