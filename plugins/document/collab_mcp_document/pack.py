"""The document pack's hook implementations (tools are added by its issue)."""
