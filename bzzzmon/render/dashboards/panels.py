"""Typed panel builders over grafana-foundation-sdk that every bzzzmon dashboard shares.

Each panel is declared as data (title, unit, queries, thresholds) and built here, so every panel
gets a title, a unit, the datasource variable, explicit refIds and a stable id. Rows are never
given panels: the SDK drops panels added inside an expanded row, so a row is a header and the
panels that follow it sit at the top level of the dashboard, as Grafana stores expanded rows.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus as prometheus_builders
from grafana_foundation_sdk.builders import stat as stat_builders
from grafana_foundation_sdk.builders import timeseries as timeseries_builders
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.output import sdk_data, sdk_json

# Every panel and query reads the dashboard's datasource variable.
DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid=f"${{{C.VAR_DATASOURCE}}}")

Number = Decimal | Fraction | int


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Threshold:
    """A value drawn on the panel; ``color`` applies from this value upwards."""

    value: Number
    color: str


@dataclass(frozen=True)
class PanelSpec:
    kind: str  # "timeseries" | "stat"
    title: str
    unit: str
    queries: tuple[Query, ...]
    description: str = ""
    width: int = 12
    height: int = 8
    base_color: str = "green"
    thresholds: tuple[Threshold, ...] = ()
    min: Number | None = None
    max: Number | None = None
    decimals: int | None = None
    stacked: bool = False


@dataclass(frozen=True)
class Row:
    title: str


@dataclass
class DashboardSpec:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    variables: list[Any] = field(default_factory=list)  # SDK variable builders
    items: list[PanelSpec | Row] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    link_tags: tuple[str, ...] = ()  # a dropdown of dashboards carrying these tags
    time_from: str = "now-6h"


def _ref_id(index: int) -> str:
    return string.ascii_uppercase[index]


def _float(value: Number) -> float | int:
    # JSON has only binary floats; thresholds are drawn, the exact value stays in the queries.
    # Whole numbers stay integers, so a byte threshold reads 3221225472, not 3221225472.0.
    if type(value) is int:
        return value
    if Fraction(value).denominator == 1:
        return int(value)
    return float(value)


def _thresholds(spec: PanelSpec) -> dashboard_builders.ThresholdsConfig:
    steps = [dashboard_models.Threshold(value=None, color=spec.base_color)]
    steps += [
        dashboard_models.Threshold(value=_float(t.value), color=t.color) for t in spec.thresholds
    ]
    return (
        dashboard_builders.ThresholdsConfig()
        .mode(dashboard_models.ThresholdsMode.ABSOLUTE)
        .steps(steps)
    )


def _target(index: int, query: Query) -> prometheus_builders.Dataquery:
    # Range queries only: stat panels draw the series (graph mode area) and show its last value.
    return (
        prometheus_builders.Dataquery()
        .ref_id(_ref_id(index))
        .datasource(DATASOURCE)
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .range()
    )


def _timeseries(spec: PanelSpec) -> timeseries_builders.Panel:
    panel = (
        timeseries_builders.Panel()
        .line_width(1)
        .fill_opacity(10)
        .show_points(common_models.VisibilityMode.NEVER)
        .span_nulls(False)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.TABLE)
            .placement(common_models.LegendPlacement.BOTTOM)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(
            common_builders.VizTooltipOptions()
            .mode(common_models.TooltipDisplayMode.MULTI)
            .sort(common_models.SortOrder.DESCENDING)
        )
    )
    if spec.thresholds:
        panel = panel.thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common_models.GraphThresholdsStyleMode.DASHED
            )
        )
    if spec.stacked:
        panel = panel.stacking(
            common_builders.StackingConfig().mode(common_models.StackingMode.NORMAL)
        )
    return panel


def _stat(spec: PanelSpec) -> stat_builders.Panel:
    panel = (
        stat_builders.Panel()
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .color_mode(common_models.BigValueColorMode.VALUE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    return panel


def build_panel(spec: PanelSpec, panel_id: int) -> Any:
    panel: Any = _timeseries(spec) if spec.kind == "timeseries" else _stat(spec)
    panel = (
        panel.id(panel_id)
        .title(spec.title)
        .description(spec.description)
        .datasource(DATASOURCE)
        .unit(spec.unit)
        .thresholds(_thresholds(spec))
        .height(spec.height)
        .span(spec.width)
    )
    if spec.min is not None:
        panel = panel.min(_float(spec.min))
    if spec.max is not None:
        panel = panel.max(_float(spec.max))
    if spec.decimals is not None:
        panel = panel.decimals(spec.decimals)
    for i, query in enumerate(spec.queries):
        panel = panel.with_target(_target(i, query))
    return panel


def datasource_variable(plan: Plan) -> dashboard_builders.DatasourceVariable:
    return (
        dashboard_builders.DatasourceVariable(C.VAR_DATASOURCE)
        .label("Data source")
        .type("prometheus")
        .current(
            dashboard_models.VariableOption(
                text=C.datasource_name(plan.service.alert_prefix),
                value=C.datasource_uid(plan.service.name),
            )
        )
    )


def label_variable(name: str, label: str, metric_selector: str) -> dashboard_builders.QueryVariable:
    """A multi-value variable over the values of ``name`` on ``metric_selector``; "All" is
    ``.*`` so queries use it as ``name=~"$name"``."""
    query = f"label_values({metric_selector}, {name})"
    return (
        dashboard_builders.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        # The classic string form: Grafana's schema types an object query as a map of objects.
        .query(query)
        .definition(query)
        .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(dashboard_models.VariableOption(text="All", value="$__all"))
    )


def build_dashboard(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard as plain JSON data, ids numbered in order."""
    data: dict[str, Any] = sdk_data(dashboard_model(spec))
    return data


def dashboard_json(spec: DashboardSpec) -> str:
    """The dashboard's file text: ``dump_json(build_dashboard(spec))``, encoded once from the
    SDK's model instead of decoded into data and encoded again."""
    return sdk_json(dashboard_model(spec), indent=True).decode("utf-8") + "\n"


def dashboard_model(spec: DashboardSpec) -> dashboard_models.Dashboard:
    """The SDK's dashboard model, ids numbered in order."""
    board = (
        dashboard_builders.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(list(spec.tags))
        .editable()
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .time(spec.time_from, "now")
        .timezone("utc")
        .refresh("1m")
        .version(1)
    )
    for variable in spec.variables:
        board = board.with_variable(variable)
    if spec.link_tags:
        board = board.link(
            dashboard_builders.DashboardLink(spec.link_tags[-1].upper() + " dashboards")
            .type(dashboard_models.DashboardLinkType.DASHBOARDS)
            .tags(list(spec.link_tags))
            .as_dropdown(True)
            .include_vars(False)
            .keep_time(True)
        )
    for title, url in spec.links:
        # Links between dashboards keep the time range; outside links (runbook) open a new tab.
        internal = url.startswith("/")
        board = board.link(
            dashboard_builders.DashboardLink(title)
            .type(dashboard_models.DashboardLinkType.LINK)
            .url(url)
            .target_blank(not internal)
            .keep_time(internal)
            .include_vars(False)
        )
    for number, item in enumerate(spec.items, start=1):
        if isinstance(item, Row):
            board = board.with_row(dashboard_builders.Row(item.title).id(number).collapsed(False))
        else:
            board = board.with_panel(build_panel(item, number))
    return board.build()
