"""Known-bad variants of factmlp (mutants) that its own checks must catch.

A derivation, claim or verifier verdict is worth citing only if it would have
failed had the result been false.  Each :class:`Mutant` is such a false
result, made on purpose: while its ``patch()`` context is active, some piece of
the product (a constant, a construction, the verifier, a derivation's
statement) is replaced by a wrong variant.  A mutant is *caught* when the
check named by ``kind`` reports a failure under the patch:

* ``kind == "theory"``: some derivation of ``factmlp theory`` is ``failed`` or
  ``unchecked`` (the command would exit 1);
* ``kind == "verify"``: some claim of ``factmlp verify`` fails (exit 1).

``expected`` names the derivations or claims meant to catch it; a harness
runs those (and may run more) and reports which actually did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ContextManager

__all__ = ["Mutant", "MUTANTS", "register_mutant"]

KINDS = ("theory", "verify")


@dataclass(frozen=True)
class Mutant:
    """One known-bad variant.

    ``patch`` returns a context manager; inside it the product is the bad
    variant (patched in-process, restored on exit).  ``expected`` holds the
    ids of derivations (``kind="theory"``) or claims (``kind="verify"``) that
    are meant to catch it.
    """

    name: str
    description: str
    kind: str
    patch: Callable[[], ContextManager[Any]]
    expected: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"mutant {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.expected:
            raise ValueError(f"mutant {self.name!r}: name at least one derivation or claim expected to catch it")


MUTANTS: dict[str, Mutant] = {}


def register_mutant(mutant: Mutant) -> Mutant:
    """Add a mutant to :data:`MUTANTS` (names are unique)."""
    if mutant.name in MUTANTS and MUTANTS[mutant.name] is not mutant:
        raise ValueError(f"mutant {mutant.name!r} registered twice")
    MUTANTS[mutant.name] = mutant
    return mutant
