"""`make package`: the CloudFormation template and the Lambda code, built for the runtime the
template names (devstack/template.py's RUNTIME), not for the Python that runs Chalice.

1. `pip download` the runtime requirements as manylinux2014 x86_64 wheels for CPython 3.13
   (binary wheels only, so nothing is compiled here) and unpack them; both are kept under
   .local/package/, named by a hash of requirements.txt, so a second run downloads nothing.
2. Copy the app into a staging project whose `vendor/` holds those packages and whose
   requirements.txt is empty: Chalice then packages them as they are (it would otherwise
   download wheels for its own Python). Chalice itself is left out: its packager adds the
   runtime part it needs (chalice/app.py).
3. `chalice package --stage prod --merge-template infra/resources.json`, then finish the
   template (devstack/template.py) and check that every compiled module in the zip is built
   for CPython 3.13 (or the stable ABI).
4. Add the bytecode of every module in the zip, compiled by a CPython 3.13 (STEWARD_RUNTIME_PYTHON,
   else `python3.13` on the PATH or under pyenv): Lambda's code folder is read-only, so without
   it every on-demand cold start compiles boto3, pydantic, stripe and the app from source (about
   1.1 s of CPU here). The files are `unchecked-hash` .pyc (PEP 552): used without looking at the
   source's time, which the zip does not keep exactly. Without a 3.13 the zip is left as
   Chalice made it, and this says so.

Usage: python -m devstack.package [OUT_DIR] [--no-dependencies]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from devstack.template import RUNTIME, finish

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".local" / "package"
PYTHON_VERSION = RUNTIME.removeprefix("python")  # "3.13"
ABI_TAG = "cpython-" + PYTHON_VERSION.replace(".", "")  # cpython-313
PLATFORM = "manylinux2014_x86_64"
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the zip: the file names in tracebacks
LEFT_OUT = re.compile(r"^chalice\b", re.IGNORECASE)  # Chalice adds its own runtime part


def runtime_requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [r for r in (line.split("#")[0].strip() for line in lines) if r and not LEFT_OUT.match(r)]


def vendor_dir() -> Path:
    """The runtime packages, unpacked: downloaded and unpacked once per requirements.txt."""
    requirements = runtime_requirements()
    key = hashlib.sha256("\n".join([PLATFORM, PYTHON_VERSION, *requirements]).encode()).hexdigest()[:12]
    wheels, vendor = WORK / f"wheels-{key}", WORK / f"vendor-{key}"
    if (vendor / ".complete").exists():
        return vendor
    if not (wheels / ".complete").exists():
        shutil.rmtree(wheels, ignore_errors=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
        target = ["--platform", PLATFORM, "--python-version", PYTHON_VERSION, "--implementation", "cp"]
        subprocess.run(
            [*command, *target, "--dest", str(wheels), *requirements],
            check=True,
        )
        (wheels / ".complete").touch()
    shutil.rmtree(vendor, ignore_errors=True)
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(vendor)
    (vendor / ".complete").touch()
    return vendor


def stage(vendor: Path | None) -> Path:
    """A copy of the app to package: app.py, chalicelib, .chalice's settings, `vendor/`.
    Chalice's own cache (.chalice/deployments) is kept between runs."""
    project = WORK / ("project" if vendor else "project-without-dependencies")
    (project / ".chalice").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(project / "chalicelib", ignore_errors=True)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "app.py", project / "app.py")
    for settings in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(settings, project / ".chalice" / settings.name)
    (project / "requirements.txt").write_text("")
    link = project / "vendor"
    if link.is_symlink() or link.exists():
        link.unlink()
    if vendor is not None:
        link.symlink_to(vendor, target_is_directory=True)
    return project


def check_binaries(deployment: Path) -> None:
    """Every compiled module is built for the target runtime: a cp311 one would fail at import."""
    with zipfile.ZipFile(deployment) as archive:
        modules = [n for n in archive.namelist() if n.endswith(".so") and ".cpython-" in n]
    wrong = [n for n in modules if f".{ABI_TAG}-x86_64-linux-gnu.so" not in n]
    if wrong:
        raise SystemExit(f"built for another Python than {RUNTIME}: {wrong[:5]}")


def check_pins(deployment: Path, requirements: list[str]) -> None:
    """The zip holds each pinned requirement at its pinned version, and the app itself."""
    with zipfile.ZipFile(deployment) as archive:
        tops = {n.split("/")[0].lower() for n in archive.namelist()}
        names = set(archive.namelist())
    missing = [pin for pin in requirements if "==" in pin and _dist_info(pin) not in tops]
    missing += [n for n in ("app.py", "chalice/app.py", "chalicelib/bootstrap.py") if n not in names]
    if missing:
        raise SystemExit(f"missing from {deployment.name}: {missing}")


def _dist_info(pin: str) -> str:
    """`PyJWT[crypto]==2.15.1` → `pyjwt-2.15.1.dist-info`, the folder its wheel unpacks."""
    name, version = pin.split("==")
    return f"{re.sub(r'[-_.]+', '_', name.split('[')[0]).lower()}-{version.strip()}.dist-info"


def runtime_python() -> str | None:
    """A CPython of the runtime's version, to compile the bytecode with."""
    named = os.environ.get("STEWARD_RUNTIME_PYTHON")
    candidates = [named] if named else [shutil.which(f"python{PYTHON_VERSION}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{PYTHON_VERSION}.*/bin/python3"), reverse=True)
    ]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        try:
            version = subprocess.run(probe, capture_output=True, text=True, check=False, timeout=30).stdout
        except OSError:
            continue
        if version.strip() == PYTHON_VERSION:
            return candidate
    return None


def add_bytecode(deployment: Path, python: str) -> int:
    """Compile every module of the zip with `python` and add the .pyc files; how many."""
    staging = WORK / "bytecode"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(deployment) as archive:
        sources = [n for n in archive.namelist() if n.endswith(".py")]
        archive.extractall(staging, members=sources)
    compile_all = [python, "-m", "compileall", "-q", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    paths = ["-s", str(staging), "-p", LAMBDA_TASK_ROOT, str(staging)]
    subprocess.run([*compile_all, *paths], check=False)  # a library file that does not compile stays source
    compiled = sorted(staging.rglob(f"__pycache__/*.{ABI_TAG}.pyc"))
    done = {p.parent.parent / (p.name.split(".")[0] + ".py") for p in compiled}
    ours = [n for n in sources if n == "app.py" or n.startswith("chalicelib/")]
    missing = [n for n in ours if staging / n not in done]
    if missing:  # the app's own modules must all compile
        raise SystemExit(f"no bytecode for {missing[:5]}")
    with zipfile.ZipFile(deployment, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for pyc in compiled:
            archive.write(pyc, pyc.relative_to(staging).as_posix())
    shutil.rmtree(staging, ignore_errors=True)
    return len(compiled)


def package(out: Path, with_dependencies: bool = True) -> Path:
    project = stage(vendor_dir() if with_dependencies else None)
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).with_name("chalice")
    merge = ["--merge-template", str(ROOT / "infra" / "resources.json")]
    subprocess.run(
        [str(chalice), "--project-dir", str(project), "package", "--stage", "prod", *merge, str(out)],
        check=True,
        env=env,
    )
    template_path = out / "sam.json"
    template = finish(json.loads(template_path.read_text()))
    template_path.write_text(json.dumps(template, indent=2) + "\n")
    if with_dependencies:
        check_binaries(out / "deployment.zip")
        check_pins(out / "deployment.zip", runtime_requirements())
    python = runtime_python()
    if python is None:
        print(
            f"no CPython {PYTHON_VERSION} found: {out.name}/deployment.zip carries no bytecode",
            file=sys.stderr,
        )
    else:
        count = add_bytecode(out / "deployment.zip", python)
        print(f"bytecode for CPython {PYTHON_VERSION}: {count} modules", file=sys.stderr)
    return template_path


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0]) if args else ROOT / "out"
    print(package(out.resolve(), with_dependencies="--no-dependencies" not in sys.argv))


if __name__ == "__main__":
    main()
