"""collab-mcp's version (its own module, so the host can name it without importing the package)."""

__version__ = "0.1.0"
