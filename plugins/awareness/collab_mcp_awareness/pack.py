"""The awareness pack's hook implementations (tools are added by its issue)."""
