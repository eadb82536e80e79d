"""In Chinese, the core's words follow the app's language: the Problems panel, refusals, the
inspector's layer doc, the palette's tooltips and the start page's preset descriptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench import i18n
from workbench.gui.commands import ConnectCommand, RemoveCommand
from workbench.gui.i18n import install_language


@pytest.fixture
def chinese_window(window) -> Iterator:  # noqa: ANN001
    install_language("zh_CN")
    window.retranslate()  # LanguageChange comes through the event loop; apply now
    yield window
    install_language("en")
    assert i18n.language() == "en"


def test_problems_inspector_and_refusals_follow_the_language(chinese_window, qtbot) -> None:  # noqa: ANN001
    window = chinese_window
    window.open_preset("digits-mlp")
    graph = window.session.graph
    flatten, fc1, digits, fc2 = (graph.node_by_name(n).id for n in ("flatten", "fc1", "digits", "fc2"))
    window.session.push(RemoveCommand(graph, [flatten]))
    window.session.push(ConnectCommand(graph, digits, fc1))
    window.session.flush()
    rows = [window.problems.tree.topLevelItem(i).text(0) for i in range(window.problems.tree.topLevelItemCount())]
    assert rows == ["Linear 'fc1' 需要一个扁平向量或一个序列（长度×特征），但收到的是 1×8×8 — 插入一个 Flatten"]
    window.scene.select_nodes([fc1])
    assert window.inspector.doc.text() == "全连接层：每个输出都是所有输入特征的加权和。"
    refused: list[str] = []
    window.session.command_refused.connect(refused.append)
    assert not window.session.push(ConnectCommand(graph, fc2, fc1))
    assert refused and "已连接" in refused[0]
    # Back to English: the panel is worded again.
    install_language("en")
    window.retranslate()
    rows = [window.problems.tree.topLevelItem(i).text(0) for i in range(window.problems.tree.topLevelItemCount())]
    assert rows == ["Linear 'fc1' needs a flat vector or a sequence (length×features) but gets 1×8×8 — insert a Flatten"]
    # The inspector re-reads its texts on the LanguageChange event.
    qtbot.waitUntil(lambda: window.inspector.doc.text().startswith("Fully connected layer"))


def test_preset_descriptions_and_palette_tips_follow_the_language(chinese_window) -> None:  # noqa: ANN001
    window = chinese_window
    window.load_presets(parameters=False)
    window.retranslate()
    card = window.start_page.card("digits-mlp")
    assert card.description.text() == "识别 8×8 手写数字的多层感知机。"
    tips = [window.palette_panel.tree.topLevelItem(i).child(j).toolTip(0)
            for i in range(window.palette_panel.tree.topLevelItemCount())
            for j in range(window.palette_panel.tree.topLevelItem(i).childCount())]
    assert any("全连接层" in tip for tip in tips)
