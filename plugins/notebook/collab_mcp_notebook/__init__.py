"""collab-mcp notebook pack."""
