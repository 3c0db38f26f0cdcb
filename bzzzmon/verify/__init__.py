"""Wrappers around the real Prometheus and Alertmanager tools."""
