"""The shipped specs in one place: specs/ holds two services (bzzz/, monitoring/) and the files
they share (shared.yaml); generated/ is their composed build. Tests of the BZZZ spec read its
plan here, the committed BZZZ files at ``BZZZ``'s paths, and copy it alone (a one-service
directory) when they edit it."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.spec.services import load_service
from bzzzmon.verify.rule_testing import USER_TESTS_DIR
from tests.conftest import ROOT

SHIPPED_SPECS = ROOT / "specs"
SHARED_SPEC = SHIPPED_SPECS / "shared.yaml"
BZZZ_SPECS = SHIPPED_SPECS / "bzzz"
MONITORING_SPECS = SHIPPED_SPECS / "monitoring"
GENERATED = ROOT / "generated"
# Where each service's own files are in generated/.
BZZZ = C.service_paths("bzzz")
MONITORING = C.service_paths("monitoring")


@functools.cache
def bzzz_plan() -> Plan:
    """The BZZZ service as `bzzzmon build` reads it from specs/ (with the shared files)."""
    return load_service(SHIPPED_SPECS, "bzzz")[0]


@functools.cache
def monitoring_plan() -> Plan:
    return load_service(SHIPPED_SPECS, "monitoring")[0]


def copy_bzzz_alone(tmp: Path, name: str = "specs", *, tests: bool = True) -> Path:
    """``tmp/name``: the BZZZ service as a one-service directory, its own files beside the
    shared ones (so errors and findings name ``<name>/alerts.yaml``), with its user tests in
    ``tests/`` unless ``tests`` is false."""
    target = tmp / name
    ignore = None if tests else shutil.ignore_patterns(USER_TESTS_DIR)
    shutil.copytree(BZZZ_SPECS, target, ignore=ignore)
    shutil.copy(SHARED_SPEC, target / SHARED_SPEC.name)
    return target
