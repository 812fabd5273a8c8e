"""What ``authorize`` and ``tool_visible`` answer: allow, abstain, or deny with a reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deny:
    """A refusal with a reason the model reads, e.g. ``Deny("notebooks under locked/ are read-only")``.

    Return it from ``authorize`` (or ``tool_visible``) where ``False`` would do: it denies
    the same way (deny wins), and the caller's error message carries ``reason``.
    """

    reason: str

    def __bool__(self) -> bool:
        return False


Verdict = bool | Deny | None  # True allows, None abstains, False or Deny(...) denies


def is_denial(answer: object) -> bool:
    """Whether a hook's answer denies (``False`` or a :class:`Deny`)."""
    return answer is False or isinstance(answer, Deny)
