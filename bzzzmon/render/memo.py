"""Results computed once per plan: several renderers and checks of one build read the same
rendered rules (the rules, their tests, the catalog, the routing lint), so each is made once."""

from __future__ import annotations

import weakref
from typing import Any

from bzzzmon.model import Plan

# Keyed by id(plan); the weak reference drops an entry with its plan, and tells a new plan that
# reuses the id from the old one.
_MEMOS: dict[int, tuple[weakref.ref[Plan], dict[Any, Any]]] = {}


def plan_memo(plan: Plan) -> dict[Any, Any]:
    """A dict that lives as long as ``plan``. Values are shared: read them, never change them."""
    key = id(plan)
    found = _MEMOS.get(key)
    if found is not None and found[0]() is plan:
        return found[1]
    memo: dict[Any, Any] = {}
    _MEMOS[key] = (weakref.ref(plan, lambda _: _MEMOS.pop(key, None)), memo)
    return memo
