"""Names bzzzmon derives for alerts a spec does not name itself."""

from __future__ import annotations

from bzzzmon import model as M


def aux_alert_name(burn_name: str, suffix: str) -> str:
    """BZZZDHTErrorBudgetBurn -> BZZZDHTErrorBudgetExhausted / BZZZDHTErrorSLIMissing."""
    base = burn_name[: -len("BudgetBurn")] if burn_name.endswith("BudgetBurn") else burn_name
    return f"{base}{suffix}"


def escalation_alert_name(severity: str) -> str:
    return f"BZZZ{severity}ResolutionTargetMissed"


def explanation_hold_alert_name(plan: M.Plan) -> str:
    """The alert that holds explanations past their cause (routed to nobody)."""
    return f"{plan.service.alert_prefix or plan.service.name.upper()}ExplanationHold"
