"""Periodic work of analytics: keep the KPI roll-up current, and generate last month's
operations report of every community once the month is over."""

from celery import shared_task

from anju.analytics import reports, rollup


@shared_task(name="anju.analytics.refresh_rollup")
def refresh_rollup() -> int:
    return rollup.refresh_changed()


@shared_task(name="anju.analytics.monthly_reports")
def monthly_reports() -> int:
    return reports.queue_last_month()


@shared_task(name="anju.analytics.generate_report")
def generate_report(report_id: int) -> str:
    return reports.generate(report_id)
