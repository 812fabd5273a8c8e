"""collab-mcp document pack."""
