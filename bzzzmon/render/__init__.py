"""Renderers: one module per output, each a pure function from the plan to files."""
