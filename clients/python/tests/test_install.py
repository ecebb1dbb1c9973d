"""`pip install ./clients/python` works offline into a fresh virtual environment, and the package imports there."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from tests.support import ROOT


class OfflineInstall(unittest.TestCase):
    def test_pip_installs_the_package_with_no_index_and_it_imports(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            venv = Path(tmp) / "venv"
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            # --no-index: no package index at all; the in-tree backend needs nothing to build with.
            env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
            env.pop("PYTHONPATH", None)
            install = subprocess.run(
                [str(python), "-m", "pip", "install", "--no-index", str(ROOT)], capture_output=True, text=True, env=env
            )
            self.assertEqual(install.returncode, 0, install.stdout + install.stderr)
            check = subprocess.run(
                [
                    str(python),
                    "-c",
                    "import vexil_client, vexil_client.evaluation as e;"
                    "from vexil_client import FeatureFlagClient, AsyncFeatureFlagClient;"
                    "print(vexil_client.__version__, vexil_client.__file__)",
                ],
                capture_output=True,
                text=True,
                cwd=tmp,  # not this folder: the installed copy must be the one imported
                env=env,
            )
            self.assertEqual(check.returncode, 0, check.stderr)
            version, location = check.stdout.split()
            self.assertEqual(version, "0.1.0")
            self.assertIn(str(venv), location)
            print(f"\noffline pip install into a new venv: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    unittest.main()
