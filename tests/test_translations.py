"""Every UI string is translated into each of the portal's languages, and the compiled catalogs match."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["fr", "pt_BR", "uk", "es"]


def entries(po_text):
    for block in po_text.split("\n\n"):
        if "msgid" not in block or block.lstrip().startswith('msgid ""\nmsgstr ""\n"'):
            continue
        yield block


def joined(block, key):
    match = re.search(rf'^{key} ((?:".*"\n?)+)', block, re.M)
    return "".join(re.findall(r'"(.*)"', match.group(1))) if match else ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete_and_reviewed(language):
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    untranslated, fuzzy = [], []
    for block in entries(text):
        msgid = joined(block, "msgid")
        if not msgid:
            continue
        if "#, fuzzy" in block or re.search(r"^#,.*\bfuzzy\b", block, re.M):
            fuzzy.append(msgid)
        strings = [joined(block, "msgstr")] if "msgid_plural" not in block else re.findall(r'^msgstr\[\d\] "(.+)"', block, re.M)
        if not any(strings) or not all(strings):
            untranslated.append(msgid)
    assert not untranslated, f"{language}: untranslated: {untranslated[:5]}"
    assert not fuzzy, f"{language}: fuzzy: {fuzzy[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_has_every_translation(language):
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for block in entries(po):
        msgid, msgstr = joined(block, "msgid"), joined(block, "msgstr")
        if msgid and msgstr and "msgid_plural" not in block and "msgctxt" not in block:
            expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode()
            source = msgid.encode().decode("unicode_escape").encode("latin-1").decode()
            assert compiled.gettext(source) == expected, f"{language}: run `make messages` ({msgid[:40]})"
