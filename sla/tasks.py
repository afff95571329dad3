"""Thin Celery tasks for the SLA engine."""

from celery import shared_task

from sla import services


@shared_task(expires=25, acks_late=True)
def scan_breaches() -> dict[str, int]:
    """Warn and breach every due SLA target; Celery Beat runs it every 30 seconds."""
    result = services.sla_scan()
    return {"warned": result.warned, "breached": result.breached, "escalated": result.escalated}
