"""Languages: which one to show, and installing its translators.

Our strings come from the bundled `i18n/workbench_<lang>.qm` (`assets/` in the repository) (compiled from the `.ts` next to it by
`pyside6-lrelease`); Qt's own strings (standard dialog buttons) from Qt's `qtbase_<lang>.qm`.
Switching language at run time removes the old translators and installs the new ones; every
widget re-reads its texts on the resulting LanguageChange event.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from workbench import i18n as core_language
from workbench.resources import asset_path


# Language code -> name shown in preferences (each in its own language, as users look for it).
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}

_installed: list[QTranslator] = []


def resolve_language(choice: str) -> str:
    """"system" -> the supported language closest to the system locale; else the choice itself."""
    if choice in LANGUAGES:
        return choice
    name = QLocale.system().name()  # e.g. "zh_CN", "en_US"
    if name.startswith("zh"):
        return "zh_CN"
    return "en"


def install_language(choice: str) -> str:
    """Install the translators for `choice` ("system", "en" or "zh_CN"); returns the code used."""
    app = QCoreApplication.instance()
    code = resolve_language(choice)
    core_language.set_language(code)  # the core's messages (problems, refusals, docs) follow
    for translator in _installed:
        QCoreApplication.removeTranslator(translator)
    _installed.clear()
    if app is None or code == "en":
        return code
    ours = QTranslator(app)
    if ours.load(str(asset_path("i18n", f"workbench_{code}.qm"))):
        QCoreApplication.installTranslator(ours)
        _installed.append(ours)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{code}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        QCoreApplication.installTranslator(qt)
        _installed.append(qt)
    return code


def translate(context: str, text: str) -> str:
    """For code outside a QObject (plain functions, tables)."""
    return QCoreApplication.translate(context, text)
