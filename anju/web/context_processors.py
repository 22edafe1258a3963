"""The console sidebar, collected from each installed app's ``nav.MENU``."""

from importlib import import_module

from django.apps import apps
from django.urls import NoReverseMatch, reverse


def _menus():
    for config in apps.get_app_configs():
        if not config.name.startswith("anju."):
            continue
        try:
            module = import_module(f"{config.name}.nav")
        except ModuleNotFoundError:
            continue
        yield from module.MENU


def navigation(request):
    scope = getattr(request, "scope", None)
    if (
        scope is None
        or not request.user.is_authenticated
        or not (scope.is_staff_member or scope.perms)
    ):
        return {}
    path = request.path
    groups = []
    best = ""
    for group in sorted(_menus(), key=lambda g: g["order"]):
        items = []
        for item in group["items"]:
            if item.get("perm") and not scope.can(item["perm"]):
                continue
            try:
                url = reverse(item["url"])
            except NoReverseMatch:
                continue
            if path.startswith(url) and len(url) > len(best):
                best = url
            items.append({**item, "href": url})
        if items:
            groups.append({**group, "items": items})
    # Only the longest matching entry is active: /console/desk/mine/ is not also 派单台.
    for group in groups:
        for item in group["items"]:
            item["active"] = item["href"] == best
        group["active"] = any(i["active"] for i in group["items"])
    return {"nav_groups": groups}
