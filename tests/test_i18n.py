"""The core's messages in Chinese (workbench.i18n, gettext catalogs in assets/i18n/): every
layer doc, preset description and marked message is translated, the shipped .mo is compiled
from the .po, and problems and refusals come out in the chosen language without Qt.

To add a translation (a new layer, preset or message): run `python -m workbench.i18n_catalog`,
fill the new empty `msgstr ""` in assets/i18n/workbench_core_zh_CN.po, and run it again.
"""

from __future__ import annotations

import gettext
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench import i18n
from workbench.i18n_catalog import Entry, all_messages, compile_mo, read_po
from workbench.layers.registry import all_layer_specs
from workbench.presets import list_presets, load_preset
from workbench.resources import asset_path

HOW = ("run `python -m workbench.i18n_catalog`, translate the empty msgstr in "
       "assets/i18n/workbench_core_zh_CN.po, and run it again")


def _po() -> Path:
    return asset_path("i18n", i18n.catalog_name("zh_CN", ".po"))


def _translated() -> dict[str, str]:
    return {e.msgid: e.msgstr for e in read_po(_po()) if e.msgid and e.msgstr}


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language(None)


def test_every_layer_doc_has_a_chinese_translation() -> None:
    translated = _translated()
    missing = [spec.type_id for spec in all_layer_specs() if spec.doc not in translated]
    assert not missing, f"layer docs without a Chinese translation: {missing} — {HOW}"


def test_every_preset_description_has_a_chinese_translation() -> None:
    translated = _translated()
    missing = [info.name for info in list_presets(parameters=False) if info.description not in translated]
    assert not missing, f"preset descriptions without a Chinese translation: {missing} — {HOW}"


def test_every_marked_message_of_the_core_is_translated() -> None:
    translated = _translated()
    missing = sorted(text for text in all_messages() if text not in translated)
    assert not missing, f"messages without a Chinese translation: {missing[:5]} — {HOW}"


def test_the_shipped_mo_is_compiled_from_the_po() -> None:
    mo = asset_path("i18n", i18n.catalog_name("zh_CN"))
    assert mo.read_bytes() == compile_mo(read_po(_po()), "zh_CN"), f"the .mo is stale — {HOW}"


def test_compiled_catalogs_read_back_through_gettext() -> None:
    entries = [Entry("plain", "平常"), Entry('a "quoted"\nline\t{x}', "引号\n换行 {x}"), Entry("untranslated", "")]
    catalog = gettext.GNUTranslations(io.BytesIO(compile_mo(entries, "zh_CN")))
    assert catalog.gettext("plain") == "平常"
    assert catalog.gettext('a "quoted"\nline\t{x}') == "引号\n换行 {x}"
    assert catalog.gettext("untranslated") == "untranslated"


def test_po_text_survives_a_write_and_read(tmp_path: Path) -> None:
    from workbench.i18n_catalog import write_po

    entries = [Entry('say "hi"\\ now\n', "说\"你好\"\\\n", ["here"])]
    write_po(tmp_path / "x.po", entries, "zh_CN")
    back = [e for e in read_po(tmp_path / "x.po") if e.msgid]
    assert [(e.msgid, e.msgstr, e.where) for e in back] == [('say "hi"\\ now\n', "说\"你好\"\\\n", ["here"])]


def test_problems_and_refusals_speak_chinese(chinese: None) -> None:
    from workbench.errors import GraphError
    from workbench.graph.analysis import analyze

    graph = load_preset("digits-mlp").graph
    graph.remove_node(graph.node_by_name("flatten").id)
    graph.connect(graph.node_by_name("digits").id, graph.node_by_name("fc1").id)
    messages = [p.message for p in analyze(graph).problems]
    assert messages == ["Linear 'fc1' 需要一个扁平向量或一个序列（长度×特征），但收到的是 1×8×8 — 插入一个 Flatten"]
    with pytest.raises(GraphError, match="无法连接：Linear 'fc1' 的每个输入都已连接"):
        graph.connect(graph.node_by_name("fc2").id, graph.node_by_name("fc1").id)
    assert i18n._(load_preset("digits-mlp").description) == "识别 8×8 手写数字的多层感知机。"


def test_english_stays_word_for_word_the_same() -> None:
    from workbench.graph.analysis import analyze

    assert i18n.language() == "en"
    graph = load_preset("digits-mlp").graph
    graph.remove_node(graph.node_by_name("flatten").id)
    graph.connect(graph.node_by_name("digits").id, graph.node_by_name("fc1").id)
    assert [p.message for p in analyze(graph).problems] == [
        "Linear 'fc1' needs a flat vector or a sequence (length×features) but gets 1×8×8 — insert a Flatten"]


def test_the_environment_chooses_the_language_of_the_command_line() -> None:
    code = ("import sys; from workbench.graph.analysis import analyze; from workbench.graph.document import Graph;"
            "print(analyze(Graph()).problems[0].message); print('PySide6' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env={**_env(), "WORKBENCH_LANG": "zh_CN"},
                         capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
    assert out == ["网络没有 Input 层 — 从层面板添加一个", "False"]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "WORKBENCH_LANG"}
