"""The two sides of a diff: the base spec from a git ref or a directory, and the current spec,
each compiled in memory with the current compiler."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from bzzzmon.diff.compare import Build
from bzzzmon.spec.services import ServiceChoiceError, choose, load_services, service_dirs


class BaseError(ValueError):
    """The base cannot be read (unknown ref, no git, not a spec directory): exit status 2."""


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise BaseError(f"git cannot run: {exc}") from exc


def _ok(args: list[str], cwd: Path) -> str | None:
    proc = _git(args, cwd)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def default_base(cwd: Path) -> str:
    """The merge base of HEAD with origin/main (when present) or main."""
    for branch in ("origin/main", "main"):
        if _ok(["rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}"], cwd):
            base = _ok(["merge-base", "HEAD", branch], cwd)
            if base:
                return base
    raise BaseError("no main or origin/main branch to diff against; pass --base REF or DIR")


def compile_dir(specs: Path, service: str | None = None, *, missing_ok: bool = False) -> Build:
    """Compile one service of a spec directory (``services.choose``) as a one-service build,
    so a service compares with itself before and after it moved into a directory of several;
    a missing or empty directory is an empty build (all added), and so is a base
    (``missing_ok``) of several services without that one (a service added)."""
    if not specs.is_dir() or not (any(specs.glob("*.y*ml")) or service_dirs(specs)):
        return Build(None, {})
    from bzzzmon.build import render_all

    services = load_services(specs)
    if not services.multi:
        service = None  # a one-service directory is that service, whatever its name was
    elif missing_ok and service not in {p.service.name for p in services.plans}:
        return Build(None, {})
    try:
        plan = choose(services, service, str(specs))
    except ServiceChoiceError as exc:
        raise BaseError(str(exc)) from exc
    return Build(plan, render_all(plan))


def compile_ref(ref: str, specs: Path, service: str | None = None) -> Build:
    """Compile the spec directory as it was at git ``ref``."""
    cwd = specs.resolve().parent if specs.exists() else Path.cwd()
    top = _ok(["rev-parse", "--show-toplevel"], cwd)
    if top is None:
        raise BaseError(f"{cwd} is not inside a git repository; pass --base DIR")
    commit = _ok(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    if commit is None:
        raise BaseError(f"unknown git ref '{ref}'")
    try:
        rel = specs.resolve().relative_to(Path(top).resolve()).as_posix()
    except ValueError as exc:
        raise BaseError(f"--specs {specs} is outside the git repository {top}") from exc
    proc = _git(["archive", "--format=tar", commit, "--", rel], Path(top))
    with tempfile.TemporaryDirectory(prefix="bzzzmon-diff-") as tmp:
        root = Path(tmp)
        if proc.returncode == 0:
            with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
                tar.extractall(root, filter="data")
        # The same directory name as the current spec, so generated headers compare equal.
        extracted = root / rel
        return compile_dir(extracted, service, missing_ok=True)


def compile_base(base: str, specs: Path, service: str | None = None) -> tuple[Build, str]:
    """(build, name) of ``base``: a directory of specs, or a git ref."""
    path = Path(base)
    if path.is_dir():
        return compile_dir(path, service, missing_ok=True), str(path)
    return compile_ref(base, specs, service), base
