"""The core's own words in the user's language, without Qt: problem messages, refusals, the
layers' one-line docs and the presets' descriptions.

Catalogs are gettext files shipped with the package: `assets/i18n/workbench_core_<lang>.po` (the
source, translated by hand) and its compiled `.mo`, which is what is read here
(`python -m workbench.i18n_catalog` refreshes the `.po` and compiles it). `_()` translates into the
current language: the app sets it from its Language preference (`set_language`, called by
`workbench.gui.i18n.install_language`); elsewhere (the command line) the environment variable
WORKBENCH_LANG says it ("zh_CN"); English otherwise. A message without a translation stays English.

A message with values is translated as a template and filled afterwards, so that the
translation may put them in its own order: `_("{layer} takes no input").format(layer=...)`.
Words declared in tables (layer docs) are translated where they are shown: `_(spec.doc)`.
"""

from __future__ import annotations

import gettext
import logging
import os

log = logging.getLogger(__name__)

LANGUAGE_ENV = "WORKBENCH_LANG"
LANGUAGES = ("en", "zh_CN")
DOMAIN = "workbench_core"

_current: str | None = None  # set by the app; None: the environment decides
_catalogs: dict[str, gettext.NullTranslations] = {}


def set_language(code: str | None) -> None:
    """Use `code` ("en", "zh_CN") from now on; None goes back to the environment's choice."""
    global _current
    _current = code if code in LANGUAGES else None if code is None else "en"


def language() -> str:
    """The language `_()` translates into now."""
    if _current is not None:
        return _current
    wanted = os.environ.get(LANGUAGE_ENV, "")
    return "zh_CN" if wanted.lower().startswith("zh") else "en"


def catalog_name(code: str, suffix: str = ".mo") -> str:
    """The file name of a language's catalog in assets/i18n/."""
    return f"{DOMAIN}_{code}{suffix}"


def _catalog(code: str) -> gettext.NullTranslations:
    catalog = _catalogs.get(code)
    if catalog is None:
        catalog = gettext.NullTranslations()
        if code != "en":
            from workbench.resources import asset_path

            path = asset_path("i18n", catalog_name(code))
            try:
                with open(path, "rb") as f:
                    catalog = gettext.GNUTranslations(f)
            except (OSError, gettext.error) as exc:  # English then, rather than no app
                log.warning("no %s translation of Workbench's messages (%s): %s", code, path, exc)
        _catalogs[code] = catalog
    return catalog


def _(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    if not message:
        return message
    return _catalog(language()).gettext(message)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark only")
    """Mark `message` for the catalog without translating it here (it is translated where shown)."""
    return message


def forget_catalogs() -> None:
    """Read the catalogs again at the next `_()` (after a .mo was rebuilt)."""
    _catalogs.clear()
