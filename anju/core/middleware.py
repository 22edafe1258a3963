"""Language selection: Chinese unless the user picked another language.

Django's LocaleMiddleware follows the browser's Accept-Language header, which would show an
English console to staff whose browser happens to be English. Anju defaults to zh-hans and
switches only on the language cookie that the language switcher sets.
"""

from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
