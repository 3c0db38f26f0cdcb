"""PromQL helpers: durations, exact numbers, selector expansion, expression builders."""
