"""The JSON schemas ``tools/list`` advertises, kept lean.

An agent pays for ``tools/list`` in every conversation, so a tool's schemas say
what a model needs and nothing pydantic adds for its own bookkeeping:

- input schemas lose the ``title`` of every schema node (the property name says
  it), and a nullable field with a null default (``x: int | None = None``)
  becomes a plain optional field (``{"type": "integer"}``, not required): the
  host still accepts an explicit null, since it validates against the model;
- no output schema is advertised: ``structuredContent`` is the JSON the text
  content already carries, the description says what comes back, and output
  schemas were a quarter of the listing (nothing advertised, nothing to violate).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# JSON Schema keywords whose value maps names to schemas (the names are data, not keywords).
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
# Keywords whose value is a schema or a list of schemas.
_SUBSCHEMAS = ("items", "additionalProperties", "not", "anyOf", "oneOf", "allOf", "prefixItems")


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The lean JSON schema of a tool's arguments."""
    schema = _lean(model.model_json_schema())
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def _lean(node: Any) -> Any:
    if isinstance(node, list):
        return [_lean(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = _without_null_option(node)
    lean: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            lean[key] = {name: _lean(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMAS:
            lean[key] = _lean(value)
        else:
            lean[key] = value  # defaults, enums, examples: data, kept as they are
    return lean


def _without_null_option(node: dict[str, Any]) -> dict[str, Any]:
    """``{"anyOf": [X, {"type": "null"}], "default": None, ...}`` -> ``{**X, ...}``."""
    options = node.get("anyOf")
    if not (isinstance(options, list) and node.get("default", ...) is None):
        return node
    kept = [o for o in options if o != {"type": "null"}]
    if len(kept) == len(options):
        return node
    rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {"anyOf": kept, **rest}
