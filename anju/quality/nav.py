"""Console sidebar entries of quality."""

MENU: list = []
