"""Merge the files of a spec directory, check cross-references and build the ``Plan``.

Each section is resolved by its own module (``service``, ``components``, ``slos``, ``alerts``,
``routing``) over one shared ``Context``. Every problem is collected with its file:line:column
before anything fails, so one run of ``bzzzmon build`` shows them all.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bzzzmon import model as M
from bzzzmon.spec import hand_tests
from bzzzmon.spec.alerts import declared_alert_names, resolve_alerts
from bzzzmon.spec.components import resolve_components, resolve_global_probes
from bzzzmon.spec.context import Context
from bzzzmon.spec.errors import SpecErrors
from bzzzmon.spec.keys import key_origins
from bzzzmon.spec.loader import LoadedFile, load_dir
from bzzzmon.spec.routing import check_routing_targets, resolve_routing
from bzzzmon.spec.service import (
    check_severity_receivers,
    resolve_exporter,
    resolve_metrics,
    resolve_receivers,
    resolve_service,
    resolve_severities,
)
from bzzzmon.spec.slos import resolve_slos


def build_plan(files: list[LoadedFile]) -> M.Plan:
    ctx = Context(files)
    ctx.metric_types = resolve_metrics(ctx)
    service = resolve_service(ctx)
    severities = resolve_severities(ctx)
    receivers = resolve_receivers(ctx)
    receiver_names = {r.name for r in receivers}
    check_severity_receivers(ctx, receiver_names)
    components = resolve_components(ctx)
    component_names = {c.name for c in components}
    probes = resolve_global_probes(ctx, component_names)
    slos = resolve_slos(ctx, service, component_names)
    # References are checked against what the spec declares, so an SLO with an error of its
    # own does not also make every reference to it an "unknown SLO".
    slo_names = {s.name for _, _, s in ctx.each("slos")}
    alerts = resolve_alerts(ctx, service, component_names, slo_names)
    alert_names = declared_alert_names(ctx)
    routing = resolve_routing(
        ctx, receiver_names, component_names, slo_names, alert_names, slos, service.labels
    )
    check_routing_targets(ctx, routing, severities)
    exporter = resolve_exporter(ctx)
    if ctx.errs.errors:
        raise SpecErrors(ctx.errs.errors)
    return M.Plan(
        service=service,
        severities=severities,
        receivers=receivers,
        routing=routing,
        exporter=exporter,
        components=components,
        probes=probes,
        slos=slos,
        alerts=alerts,
        spec_files=tuple(sorted(lf.doc.file for lf in ctx.files)),
        origins={k: tuple(sorted(v)) for k, v in ctx.origins.items()},
        metrics=ctx.metric_types,
        keys=key_origins(ctx.files),
    )


def load_plan(spec_dir: Path) -> M.Plan:
    """Load, check and resolve a spec directory. Raises ``SpecErrors`` listing every problem."""
    files, errors = load_dir(spec_dir)
    if errors:
        # Report cross-file problems only once every file is well-formed; partial merges would
        # produce misleading follow-on errors.
        raise SpecErrors(errors)
    return with_hand_tests(build_plan(files), spec_dir)


def with_hand_tests(plan: M.Plan, spec_dir: Path) -> M.Plan:
    """The plan knowing which alerts the tests in ``spec_dir``/tests/ show firing."""
    return dataclasses.replace(plan, hand_tested=frozenset(hand_tests.covered(spec_dir)))
