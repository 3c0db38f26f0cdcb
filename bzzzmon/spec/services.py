"""A specs directory holding one service, or one per subdirectory with shared files at the top.

- One service (the directory's own files declare ``service``): exactly ``load_plan``.
- Several: the top-level files declare no ``service`` and each subdirectory (not hidden, not the
  user tests' ``tests/``) with spec files is a service, named after it (``specs/<name>/``, with
  its own user tests in ``specs/<name>/tests/``). A service reads its own files, then the
  shared ones; ``severities``, ``receivers`` and ``routing`` are inherited from the shared files
  unless the service's own files declare that section, which then replaces the shared one
  (sections of named items, such as ``metrics`` or ``selectors``, simply merge).

Each service is resolved by the one-service pipeline (``build_plan``) on its own; every alert it
generates carries ``service="<name>"``, which its Alertmanager route matches. The checks across
services that the spec alone decides are here (a directory not named after its service, two
services of one alert prefix, a ``service`` label that is not the service's name); those on the
rendered output (alert and recording-rule names, jobs, receivers) are ``bzzzmon.compose``'s.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bzzzmon import conventions as C
from bzzzmon import model as M
from bzzzmon.spec.errors import SpecError, SpecErrors
from bzzzmon.spec.loader import FILE_NAME, LoadedFile, load_dir, spec_files
from bzzzmon.spec.plan import build_plan, load_plan, with_hand_tests
from bzzzmon.verify.rule_testing import USER_TESTS_DIR

# Sections a service's own files replace rather than merge with the shared files'.
INHERITED = ("severities", "receivers", "routing")


def service_dirs(spec_dir: Path) -> list[Path]:
    """The subdirectories of ``spec_dir`` that hold a service's spec files."""
    if not spec_dir.is_dir():
        return []
    return sorted(
        p
        for p in spec_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != USER_TESTS_DIR and spec_files(p)
    )


def _label(spec_dir: Path) -> str:
    return spec_dir.name or str(spec_dir)


def _declares(lf: LoadedFile, section: str) -> bool:
    return bool(getattr(lf.spec, section))


def _without(lf: LoadedFile, sections: set[str]) -> LoadedFile:
    """``lf`` as if it did not declare ``sections`` (their keys no longer point into it)."""
    dropped = sorted(s for s in sections if _declares(lf, s))
    if not dropped:
        return lf
    empty: dict[str, Any] = {s: [] if s == "receivers" else None for s in dropped}
    doc = dataclasses.replace(
        lf.doc,
        positions={p: v for p, v in lf.doc.positions.items() if not p or p[0] not in dropped},
        value_positions={
            p: v for p, v in lf.doc.value_positions.items() if not p or p[0] not in dropped
        },
    )
    return LoadedFile(doc, lf.spec.model_copy(update=empty))


def inherit(own: list[LoadedFile], shared: list[LoadedFile]) -> list[LoadedFile]:
    """A service's files: its own, then the shared ones minus the sections it overrides."""
    overridden = {s for s in INHERITED if any(_declares(lf, s) for lf in own)}
    return own + [_without(lf, overridden) for lf in shared]


def origin_error(origin: M.Origin, message: str, hint: str = "") -> SpecError:
    return SpecError(origin.file, origin.line, origin.column, message, hint)


def _labelled(plan: M.Plan) -> tuple[M.Plan, list[SpecError]]:
    """The plan with ``service="<name>"`` on every alert, or an error if it says otherwise."""
    service = plan.service
    given = service.labels.get(C.LABEL_SERVICE)
    if given is not None and given != service.name:
        return plan, [
            origin_error(
                plan.key_origin(f"service.labels.{C.LABEL_SERVICE}"),
                f"service.labels.{C.LABEL_SERVICE} is '{given}', not the service's name "
                f"'{service.name}'",
                "in a directory of several services each is routed by its name; "
                f"remove the label or set it to '{service.name}'",
            )
        ]
    labels = {**service.labels, C.LABEL_SERVICE: service.name}
    return dataclasses.replace(plan, service=dataclasses.replace(service, labels=labels)), []


def _for_service(error: SpecError, service: str, shared: set[str]) -> SpecError:
    """An error in a shared file says which service's reading of it found it."""
    if error.file not in shared:
        return error
    note = f"(a shared file, read for the service in {service}/)"
    return dataclasses.replace(error, hint=f"{error.hint} {note}" if error.hint else note)


def _unique(plans: list[M.Plan], key: str, what: str, why: str) -> list[SpecError]:
    """Each service's ``service.<key>`` differs from every other's."""
    errors = []
    first: dict[str, M.Plan] = {}
    for plan in plans:
        value = str(getattr(plan.service, key))
        seen = first.setdefault(value, plan)
        if seen is not plan:
            errors.append(
                origin_error(
                    plan.key_origin(f"service.{key}"),
                    f"a second service {what} '{value}'",
                    f"first at {seen.key_origin(f'service.{key}')}; {why}",
                )
            )
    return errors


def _named_after(plan: M.Plan, directory: str) -> list[SpecError]:
    """A service directory is named after its service: specs/<name>/ -> prometheus/<name>/."""
    if plan.service.name == directory:
        return []
    return [
        origin_error(
            plan.key_origin("service.name"),
            f"the service in {directory}/ is named '{plan.service.name}'",
            "name the directory after its service (its output is in "
            f"prometheus/{plan.service.name}/, docs/{plan.service.name}/, ...), or the service "
            "after its directory",
        )
    ]


def _dir_problem(spec_dir: Path, sub: Path) -> SpecError | None:
    if FILE_NAME.match(sub.name):
        return None
    return SpecError(
        f"{_label(spec_dir)}/{repr(sub.name)[1:-1]}",
        1,
        1,
        "a service directory name uses letters, digits, '.', '_' and '-' only",
        "rename the directory",
    )


@dataclasses.dataclass(frozen=True)
class Services:
    plans: tuple[M.Plan, ...]
    multi: bool  # one service per subdirectory (even if there is one): composed output


def load_services(spec_dir: Path) -> Services:
    """One plan per service of ``spec_dir`` (a one-service directory: one). Raises
    ``SpecErrors`` listing every problem of every service."""
    subdirs = service_dirs(spec_dir)
    if not subdirs:
        return Services((load_plan(spec_dir),), multi=False)
    top = _label(spec_dir)
    shared, errors = load_dir(spec_dir, top, allow_empty=True)
    if errors:
        raise SpecErrors(errors)
    if any(_declares(lf, "service") for lf in shared):
        # The top is a service: its subdirectories are not read (a one-service directory).
        return Services((with_hand_tests(build_plan(shared), spec_dir),), multi=False)
    errors = [e for e in (_dir_problem(spec_dir, sub) for sub in subdirs) if e is not None]
    if errors:
        raise SpecErrors(errors)
    per_service: list[list[LoadedFile]] = []
    for sub in subdirs:
        own, errs = load_dir(sub, f"{top}/{sub.name}")
        errors += errs
        per_service.append(own)
    if errors:
        raise SpecErrors(errors)
    plans: list[M.Plan] = []
    shared_files = {lf.doc.file for lf in shared}
    for sub, own in zip(subdirs, per_service, strict=True):
        try:
            plan, errs = _labelled(with_hand_tests(build_plan(inherit(own, shared)), sub))
        except SpecErrors as exc:
            errors += [_for_service(e, sub.name, shared_files) for e in exc.errors]
            continue
        errors += errs + _named_after(plan, sub.name)
        plans.append(plan)
    errors += _unique(
        plans,
        "alert_prefix",
        "with the alert prefix",
        "the prefix names a service's Watchdog, Grafana folder and datasource: one per service",
    )
    if errors:
        raise SpecErrors(errors)
    return Services(tuple(plans), multi=True)


class ServiceChoiceError(ValueError):
    """No service of that name, or several and none named: a usage error (exit status 2)."""


def choose(services: Services, name: str | None, where: str = "the specs directory") -> M.Plan:
    """The service a one-service command reads: the one named, else the only one, else the
    deployed one if only one is (the one with ``service.swarm``, else the one with probes)."""
    plans = services.plans
    names = ", ".join(p.service.name for p in plans)
    if name is not None:
        for plan in plans:
            if plan.service.name == name:
                return plan
        raise ServiceChoiceError(f"{where} holds no service '{name}' (services: {names})")
    if len(plans) == 1:
        return plans[0]
    for deployed in (
        [p for p in plans if p.service.swarm is not None],
        [p for p in plans if p.probed],
    ):
        if len(deployed) == 1:
            return deployed[0]
    raise ServiceChoiceError(
        f"{where} holds several services ({names}); pass --service NAME to choose one"
    )


def paths_of(services: Services, plan: M.Plan) -> C.ServicePaths:
    """Where ``plan``'s own files are in the tree ``services`` build into."""
    return C.service_paths(plan.service.name if services.multi else None)


def load_service(spec_dir: Path, name: str | None = None) -> tuple[M.Plan, C.ServicePaths]:
    """One service of ``spec_dir`` (``choose``) and where its files are in its build. Raises
    ``SpecErrors`` (a bad spec) or ``ServiceChoiceError``."""
    services = load_services(spec_dir)
    plan = choose(services, name, str(spec_dir))
    return plan, paths_of(services, plan)
