"""The Simplified Chinese catalogue: complete, compiled, and used by the pages.

zh-hans is the default language, so an untranslated string or a stale ``.mo`` shows English to a
Chinese clerk. These tests read the ``.po`` with a small parser (no polib needed).
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from anju.core.choices import Role
from anju.estates.choices import HouseholdRole, ResidentTag, RoomStatus, RoomUse

LOCALE = Path(__file__).resolve().parent.parent / "anju" / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"

_FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$')


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr / msgstr[n], flags."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set()}
        current = None
        for line in block.strip().splitlines():
            if line.startswith("#~"):  # obsolete entry
                entry = {}
                break
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
                continue
            if line.startswith("#"):
                continue
            match = _FIELD.match(line)
            if match:
                current = match.group(1)
                entry[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                entry[current] += ast.literal_eval(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def _translations(entry: dict) -> list[str]:
    return [v for k, v in sorted(entry.items()) if k.startswith("msgstr")]


def _catalogue_key(entry: dict, plural_index: int | None = None):
    msgid = entry["msgid"]
    if "msgctxt" in entry:
        msgid = f"{entry['msgctxt']}\x04{msgid}"
    return msgid if plural_index is None else (msgid, plural_index)


def test_every_chinese_entry_is_translated():
    # given the zh_Hans catalogue
    entries = [e for e in parse_po(ZH_PO) if e["msgid"]]
    # then no entry is empty or fuzzy
    assert len(entries) > 100
    bad = [
        e["msgid"]
        for e in entries
        if "fuzzy" in e["flags"] or not all(s.strip() for s in _translations(e))
    ]
    assert not bad, "Untranslated or fuzzy zh_Hans entries:\n" + "\n".join(bad)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_catalogue_covers_every_string_of_the_source(tmp_path):
    # given the strings makemessages finds in the code and templates today (in a copy, so the
    # committed catalogue is not touched)
    source = Path(__file__).resolve().parent.parent / "anju"
    copy = tmp_path / "anju"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "data"))
    script = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('makemessages', locale=['zh_Hans'], no_obsolete=True, no_location=True, "
        "verbosity=0)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "anju.settings"}
    env.pop("ANJU_TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-P", "-c", script], cwd=copy, env=env, check=True, timeout=300)
    fresh = {
        _catalogue_key(e)
        for e in parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
        if e["msgid"]
    }
    committed = {_catalogue_key(e) for e in parse_po(ZH_PO) if e["msgid"]}
    # then every one of them is in the committed catalogue (run makemessages and translate)
    missing = sorted(fresh - committed)
    assert not missing, "Strings missing from the zh_Hans catalogue:\n" + "\n".join(missing)


def test_chinese_header_has_one_plural_form():
    header = next(e for e in parse_po(ZH_PO) if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"]
    assert "Language: zh_Hans" in header["msgstr"]
    for entry in parse_po(ZH_PO):
        if "msgid_plural" in entry:
            assert {k for k in entry if k.startswith("msgstr")} == {"msgstr[0]"}


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}|\{\w*\}")
    for entry in parse_po(ZH_PO):
        if not entry["msgid"]:
            continue
        wanted = sorted(placeholder.findall(entry["msgid"]))
        for text in _translations(entry):
            assert sorted(placeholder.findall(text)) == wanted, entry["msgid"]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext msgfmt is not installed")
@pytest.mark.parametrize("po", [ZH_PO, EN_PO], ids=["zh_Hans", "en"])
def test_msgfmt_accepts_the_catalogue(po, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "out.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("po", "mo"), [(ZH_PO, ZH_MO), (EN_PO, EN_MO)], ids=["zh_Hans", "en"])
def test_compiled_catalogue_matches_the_po(po, mo):
    # given the committed .mo (the product must work without gettext installed)
    assert mo.exists(), f"{mo} is missing; run compilemessages"
    with mo.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog
    # then it holds exactly the translated entries of the .po
    expected = {}
    for entry in parse_po(po):
        if not entry["msgid"] or "fuzzy" in entry["flags"]:
            continue
        if "msgid_plural" in entry:
            for key, text in entry.items():
                if key.startswith("msgstr[") and text:
                    expected[_catalogue_key(entry, int(key[7:-1]))] = text
        elif entry["msgstr"]:
            expected[_catalogue_key(entry)] = entry["msgstr"]
    compiled = {k: v for k, v in compiled.items() if k != ""}
    stale = sorted(str(k) for k in set(expected) ^ set(compiled))
    stale += sorted(str(k) for k in expected if k in compiled and compiled[k] != expected[k])
    assert not stale, "The .mo is stale; run compilemessages. Differences:\n" + "\n".join(stale)


def test_key_labels_are_chinese():
    with translation.override("zh-hans"):
        assert Role.COMPANY_ADMIN.label == "公司管理员"
        assert Role.FRONT_DESK.label == "前台客服"
        assert RoomStatus.OCCUPIED.label == "自住"
        # the Excel importer's example row relies on these exact words
        assert RoomUse.RESIDENTIAL.label == "住宅"
        assert HouseholdRole.OWNER.label == "业主"
        assert ResidentTag.ELDERLY.label == "老人"
        assert ResidentTag.PETS.label == "宠物"
    with translation.override("en"):
        assert Role.COMPANY_ADMIN.label == "Company administrator"


@pytest.mark.django_db
def test_console_speaks_chinese_by_default(world):
    # given the HQ admin with no language chosen
    # when they open the room list
    response = world.client("hq").get("/console/estates/rooms/")
    # then the sidebar and page use the trade's Chinese words
    assert response.status_code == 200
    html = response.content.decode()
    for word in ("工作台", "房产", "小区", "楼栋", "房屋", "住户"):
        assert word in html
    for english in ("Workbench", "Communities", "Buildings", "Rooms", "Residents", "Audit log"):
        assert f">{english}<" not in html, english


@pytest.mark.django_db
def test_english_stays_switchable(world):
    client = world.client("hq")
    client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    html = client.get("/console/estates/rooms/").content.decode()
    assert ">Rooms<" in html
