"""Write an imported service as a bzzzmon spec file: data emitted like every generated file,
with a comment above each SLO on what did not carry over, and checked by the spec loader before
anything is written (an import that would not load is an error, not a file)."""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from bzzzmon.imports.draft import Collector, ServiceDraft, alert_prefix, camel
from bzzzmon.promql.duration import format_duration, parse_duration
from bzzzmon.promql.numbers import format_decimal
from bzzzmon.render.output import ExactNumber
from bzzzmon.render.yamlemit import emit
from bzzzmon.slo.windows import default_tiers
from bzzzmon.spec.errors import SpecError
from bzzzmon.spec.loader import check_document
from bzzzmon.spec.yamlpos import load_text


def _comment(lines: list[str], indent: str = "") -> str:
    """Comment lines; a line break inside source text cannot end the comment."""
    out = []
    for line in lines:
        for part in line.splitlines() or [""]:
            out.append(f"{indent}# {part}".rstrip())
    return "".join(f"{x}\n" for x in out)


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return ExactNumber(format_decimal(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def _tiers_without(kinds: list[str], period: str) -> list[dict[str, Any]]:
    """bzzzmon's default tiers for the period, without those of ``kinds``."""
    return [
        {
            "name": t.name,
            "long": format_duration(t.long),
            "short": format_duration(t.short),
            "budget_percent": t.budget_percent,
            "severity": "P1" if t.kind == "page" else "P2",
            "kind": t.kind,
            **({"for": format_duration(t.for_)} if t.for_ else {}),
        }
        for t in default_tiers(parse_duration(period))
        if t.kind not in kinds
    ]


def spec_data(svc: ServiceDraft) -> tuple[dict[str, Any], str]:
    """The spec's data and the comments at the top of its file."""
    prefix = alert_prefix([s.data["alerting"]["name"] for s in svc.slos], svc.name)
    notes = list(svc.notes)
    if not prefix:
        prefix = camel(svc.name) or "Service"
        notes.append(f"alert names had no common prefix: each now starts with {prefix}")
    slos = []
    for s in svc.slos:
        a = s.data["alerting"]
        if not a["name"].startswith(prefix):
            a["name"] = prefix + a["name"]
        disabled = a.pop("disabled", [])
        if disabled:
            a["tiers"] = _tiers_without(disabled, s.data["period"])
        slos.append({**s.data, "component": svc.name})
    # bzzzmon requires a runbook link on every alert; .invalid (RFC 2606) can never resolve.
    runbook = svc.runbook_url or f"https://runbooks.invalid/{svc.name}.md"
    if not svc.runbook_url:
        notes.append(f"service.runbook_url is a placeholder ({runbook}): set your runbook's URL")
    service: dict[str, Any] = {"name": svc.name, "alert_prefix": prefix, "runbook_url": runbook}
    if svc.labels:
        service["labels"] = svc.labels
    data = {
        "apiVersion": "bzzzmon/v1",
        "service": service,
        "metrics": dict(sorted(svc.metrics.items())),
        # A component and its weight are what a bzzzmon/v1 SLO names today.
        "components": [{"name": svc.name, "weight": 1}],
        "slos": slos,
    }
    return data, "\n".join(notes)


def spec_text(svc: ServiceDraft, tool: str) -> str:
    data, notes = spec_data(svc)
    head = [
        f"Imported from {tool} by `bzzzmon import`: {', '.join(svc.source_files)}.",
        "Review before use: add severities and receivers.",
    ]
    if svc.description:
        head.append(f"Service: {svc.description}")
    if notes:
        head += ["", *notes.split("\n")]
    top = {k: v for k, v in data.items() if k != "slos"}
    out = [_comment(head), emit(_exact(top)), "slos:\n"]
    for raw, slo in zip(svc.slos, data["slos"], strict=True):
        lines = [f"from {raw.source}", *dict.fromkeys(raw.notes)]
        out.append(_comment(lines, "  "))
        body = emit([_exact(slo)])
        out.append("".join(f"  {line}\n" for line in body.splitlines()))
    return "".join(out)


def render(drafts: list[ServiceDraft], tool: str, c: Collector) -> dict[str, str]:
    """File name -> spec text for every service, each checked as bzzzmon would load it."""
    files: dict[str, str] = {}
    errors: list[SpecError] = []
    for svc in drafts:
        name = f"{svc.name}.yaml"
        if name in files:
            errors.append(
                SpecError(svc.source_files[0], 1, 1, f"service '{svc.name}' is imported twice")
            )
            continue
        seen: set[str] = set()
        for slo in svc.slos:
            if slo.data["name"] in seen:
                file, _, line = slo.source.rpartition(":")
                errors.append(
                    SpecError(
                        file,
                        int(line),
                        1,
                        f"a second SLO named '{slo.data['name']}' in service '{svc.name}'",
                        "rename one of them, or import their files separately",
                    )
                )
            seen.add(slo.data["name"])
        text = spec_text(svc, tool)
        # The written spec is checked as a build would load it, at its own positions.
        doc, errs = load_text(text, name)
        if doc is not None:
            errs = check_document(doc)[1]
        errors += errs
        files[name] = text
    c.errors += errors
    c.raise_errors()
    return files


def write(files: dict[str, str], out: Path, *, force: bool) -> list[Path]:
    """Write the files into ``out`` only, all or none: existing files are kept unless ``force``."""
    targets = [out / name for name in sorted(files)]
    existing = [p for p in targets if p.exists() or p.is_symlink()]
    if existing and not force:
        raise FileExistsError(", ".join(str(p) for p in existing))
    out.mkdir(parents=True, exist_ok=True)
    for path in targets:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise FileExistsError(f"{path} is not a regular file")
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".import-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(files[path.name])
        os.replace(tmp, path)
    return targets
