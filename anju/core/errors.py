"""Domain errors that views and the API turn into 4xx responses with a readable message."""

from django.utils.translation import gettext_lazy as _


class AnjuError(Exception):
    """Base of the errors a service raises for a user to read."""

    status = 400
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, errors: dict | None = None):
        self.message = message or self.default_message
        self.errors = errors or {}
        super().__init__(str(self.message))


class Invalid(AnjuError):
    status = 400
    default_message = _("Some fields are not valid.")


class NotFound(AnjuError):
    status = 404
    default_message = _("Not found, or you have no access to it.")


class Forbidden(AnjuError):
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(AnjuError):
    status = 409
    default_message = _("The record was changed by someone else; reload and try again.")
