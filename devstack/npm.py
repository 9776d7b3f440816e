"""Packages from the npm registry, each checked against a pinned SHA-256 before use.

Used for DynamoDB Local and for the front-end files: the dashboard's chart library and
the accessibility engine the browser tests run. Nothing is fetched from a CDN at run time.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / ".local" / "npm"

# name@version: (tarball sha256, {file inside the package: name served under /vendor/})
ASSETS = {
    "uplot@1.6.32": (
        "4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d",
        {
            "dist/uPlot.iife.min.js": "uPlot.iife.min.js",
            "dist/uPlot.min.css": "uPlot.min.css",
            "LICENSE": "uPlot-LICENSE",
        },
    ),
    "axe-core@4.14.1": (
        "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745",
        {"axe.min.js": "axe.min.js", "LICENSE": "axe-core-LICENSE"},
    ),
}


class ChecksumError(RuntimeError):
    """A downloaded file does not match its pinned SHA-256."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check(path: Path, expected: str) -> None:
    actual = sha256(path)
    if actual != expected:
        raise ChecksumError(f"{path.name}: sha256 {actual}, expected {expected}")


def pack(package: str, expected_sha256: str, scratch: Path) -> Path:
    """`npm pack` one package into `scratch` and check it; returns the tarball."""
    subprocess.run(["npm", "pack", package, "--silent"], cwd=scratch, check=True, stdout=subprocess.DEVNULL)
    tarball = next(scratch.glob("*.tgz"))
    check(tarball, expected_sha256)
    return tarball


def ensure_assets(target: Path = ASSETS_DIR) -> Path:
    """The pinned front-end files, unpacked into `target` once (a stamp names the pins)."""
    stamp = target / ".pins"
    pins = "\n".join(f"{name} {sha}" for name, (sha, _) in sorted(ASSETS.items()))
    if stamp.exists() and stamp.read_text() == pins:
        return target
    with tempfile.TemporaryDirectory() as scratch_name:
        staged = Path(scratch_name) / "staged"
        staged.mkdir()
        for index, (package, (expected, files)) in enumerate(ASSETS.items()):
            folder = Path(scratch_name) / str(index)
            folder.mkdir()
            tarball = pack(package, expected, folder)
            with tarfile.open(tarball) as archive:
                for inner, served in files.items():
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        raise ChecksumError(f"{package} has no {inner}")
                    (staged / served).write_bytes(member.read())
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, target)
        stamp.write_text(pins)
    return target
