"""The spec: YAML with positions, the versioned wire model, validation into a plan."""
