"""Names bzzzmon derives for alerts a spec does not name itself."""

from __future__ import annotations

import re

from bzzzmon import model as M
from bzzzmon.spec import wire


def camel(name: str) -> str:
    """``checkout-api`` -> ``CheckoutApi``: a spec name as part of an alert name."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", name) if p)


def burn_alert_name(prefix: str, slo: wire.SLO) -> str:
    """An SLO's burn-rate alert: ``alerting.name``, by default ``<prefix><SloName>BudgetBurn``."""
    return slo.alerting.name or f"{prefix}{camel(slo.name)}BudgetBurn"


def component_of(service: str, declared: str | None) -> str:
    """An SLO's or alert's component; without one, the service is its own only component."""
    return declared or service


def aux_alert_name(burn_name: str, suffix: str) -> str:
    """BZZZDHTErrorBudgetBurn -> BZZZDHTErrorBudgetExhausted / BZZZDHTErrorSLIMissing."""
    base = burn_name[: -len("BudgetBurn")] if burn_name.endswith("BudgetBurn") else burn_name
    return f"{base}{suffix}"


def escalation_alert_name(prefix: str, severity: str) -> str:
    return f"{prefix}{severity}ResolutionTargetMissed"


def explanation_hold_alert_name(plan: M.Plan) -> str:
    """The alert that holds explanations past their cause (routed to nobody)."""
    return f"{plan.service.alert_prefix or plan.service.name.upper()}ExplanationHold"
