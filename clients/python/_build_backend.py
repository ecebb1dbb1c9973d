"""A PEP 517 build backend for vexil-client, standard library only.

Why hand-written: the package must install with no network (`pip install
./clients/python`), and the usual backends are not there to rely on offline —
setuptools before 70.1 needs the `wheel` package to build a wheel, and flit_core or
hatchling would have to be downloaded. A pure-Python package's wheel is a zip of its
files plus three metadata files, which is all this writes. It reads the name, version,
summary and Python requirement from pyproject.toml (tomllib on 3.11+, a line reader
of this file's own simple layout on 3.10).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE = "vexil_client"


def _project() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib

        project = tomllib.loads(text)["project"]
        return {k: project[k] for k in ("name", "version", "description", "requires-python")}
    except ModuleNotFoundError:
        section = text.split("[project]", 1)[1]
        found = dict(re.findall(r'^([a-z-]+) = "(.*)"$', section, re.MULTILINE))
        return {k: found[k] for k in ("name", "version", "description", "requires-python")}


def _dist_name(project: dict[str, str]) -> str:
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project: dict[str, str]) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {project['name']}\n"
        f"Version: {project['version']}\n"
        f"Summary: {project['description']}\n"
        "License: Apache-2.0\n"
        f"Requires-Python: {project['requires-python']}\n"
        "Description-Content-Type: text/markdown\n\n"
        f"{readme}"
    )


def _package_files() -> list[Path]:
    return sorted(
        path
        for path in (ROOT / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed")
    )


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, files: list[tuple[str, bytes]]) -> str:
    project = _project()
    dist = f"{_dist_name(project)}-{project['version']}"
    info = f"{dist}.dist-info"
    entries = list(files)
    entries.append((f"{info}/METADATA", _metadata(project).encode()))
    entries.append(
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: vexil _build_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    )
    record = [_record_line(name, data) for name, data in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    filename = f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            wheel.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = [(path.relative_to(ROOT).as_posix(), path.read_bytes()) for path in _package_files()]
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth file naming this folder: the installed package is the working copy.
    return _write_wheel(wheel_directory, [(f"{PACKAGE}.pth", f"{ROOT}\n".encode())])


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    filename = f"{base}.tar.gz"
    names = ["pyproject.toml", "README.md", "_build_backend.py"]
    paths = [ROOT / n for n in names] + _package_files()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=f"{base}/{path.relative_to(ROOT).as_posix()}")
        pkg_info = _metadata(project).encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        archive.addfile(info, io.BytesIO(pkg_info))
    return filename
