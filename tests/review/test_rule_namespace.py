"""Recording-rule names: bzzzmon's own level, never a name Sloth's or Pyrra's rules record, so a
team running them side by side during a migration does not mix two tools' series in one name."""

from __future__ import annotations

import re

import pytest

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.lint.dashboards import recorded_names
from bzzzmon.render.output import Files
from tests.shipped import bzzz_plan

# What the peers record (bench/peers.py builds their real rule shapes): Sloth's level is
# ``slo:`` (``slo:sli_error:ratio_rate5m``, ``slo:objective:ratio``, ...), Pyrra's names are
# ``<metric>:burnrate<window>`` and ``pyrra_*``.
SLOTH_LEVEL = "slo:"
PYRRA = re.compile(r"^(pyrra_|[a-zA-Z_][a-zA-Z0-9_]*:burnrate)")


@pytest.fixture(scope="module")
def files() -> Files:
    return render_all(bzzz_plan())


def test_every_recording_rule_is_in_bzzzmons_namespace(files: Files) -> None:
    recorded = recorded_names(files)
    assert recorded, "the shipped specs record rules"
    outside = sorted(n for n in recorded if not n.startswith(C.REC_NAMESPACE + ":"))
    assert outside == []


def test_no_name_is_shaped_like_sloths_or_pyrras(files: Files) -> None:
    recorded = recorded_names(files)
    assert C.rec_name(C.REC_ERROR_RATIO, "5m") in recorded
    assert [n for n in recorded if n.startswith(SLOTH_LEVEL) or PYRRA.match(n)] == []


def test_the_dashboards_read_bzzzmons_names(files: Files) -> None:
    boards = "".join(t for p, t in files.items() if p.startswith(C.GRAFANA_DASHBOARDS_DIR))
    assert f"{C.REC_NAMESPACE}:sli_error:ratio_rate" in boards
    assert "slo:sli_error" not in boards.replace(f"{C.REC_NAMESPACE}:", "")
