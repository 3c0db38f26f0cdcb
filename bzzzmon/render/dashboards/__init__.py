"""Grafana dashboards built with grafana-foundation-sdk: the overview, one per SLO, the exporter."""
