"""collab-mcp awareness pack."""
