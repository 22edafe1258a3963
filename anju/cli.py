"""The ``anju`` command: Django's management commands with Anju's settings.

``anju demo``, ``anju serve``, ``anju seed``, ``anju worker`` and every ``manage.py`` command
(``anju migrate``, ``anju createsuperuser``…) run through here.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "anju"
    if len(argv) == 1:
        argv.append("help")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
