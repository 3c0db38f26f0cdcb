"""Burn-rate math: alert windows, burn factors and detection times, as pure functions."""
