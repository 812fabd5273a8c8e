"""collab-mcp auth pack: identities for the MCP endpoint."""
