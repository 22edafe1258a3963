"""Anju (安居): a smart property-management service platform."""

from anju.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
