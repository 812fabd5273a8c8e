"""The notebook pack's hook implementations (tools are added by its issue)."""
