"""bzzzmon: monitoring-as-code for the BZZZ peer-to-peer agent system."""

__version__ = "0.1.0"
