"""Attaches the user's ``Scope`` to each request, built at most once per request."""

from django.utils.functional import SimpleLazyObject

from anju.estates.scoping import scope_for


class ScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.scope = SimpleLazyObject(lambda: scope_for(request.user))
        return self.get_response(request)
