"""Grafana provisioning: a file provider for the generated dashboards and the Prometheus
datasource with the fixed uid every dashboard and alert link relies on.

Deployment layout: generated/grafana/provisioning/ is mounted as /etc/grafana/provisioning/ and
generated/grafana/dashboards/ as conventions.grafana_dashboards_path(service).
"""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.output import Files, dump_yaml

DASHBOARDS_PROVIDER = f"{C.GRAFANA_PROVISIONING_DIR}/dashboards/bzzzmon.yml"
DATASOURCE = f"{C.GRAFANA_PROVISIONING_DIR}/datasources/bzzzmon.yml"


def render(plan: Plan) -> Files:
    sources = plan.files_of("service")
    provider = {
        "apiVersion": 1,
        "providers": [
            {
                "name": f"{plan.service.name}-bzzzmon",
                "orgId": 1,
                "folder": plan.service.alert_prefix,
                "type": "file",
                # Generated dashboards are changed in the spec, never in the UI.
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {
                    "path": C.grafana_dashboards_path(plan.service.name),
                    "foldersFromFilesStructure": False,
                },
            }
        ],
    }
    datasource = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": C.datasource_name(plan.service.alert_prefix),
                "uid": C.datasource_uid(plan.service.name),
                "type": "prometheus",
                "access": "proxy",
                "url": C.DATASOURCE_URL,
                "isDefault": True,
                "editable": False,
                "jsonData": {
                    "httpMethod": "POST",
                    # $__rate_interval is at least four scrape intervals of this value.
                    "timeInterval": C.SCRAPE_INTERVAL,
                    "prometheusType": "Prometheus",
                },
            }
        ],
    }
    return {
        DASHBOARDS_PROVIDER: dump_yaml(provider, sources),
        DATASOURCE: dump_yaml(datasource, sources),
    }
