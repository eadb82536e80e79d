"""Freezing layers in the app: the Freeze/Unfreeze action, the card's mark, the inspector,
Replace Head, undo; and a picture of a frozen backbone (docs/frozen-backbone.png)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage

from workbench.graph.document import Graph


def _ids(graph: Graph, *names: str) -> list[str]:
    return [graph.node_by_name(n).id for n in names]


def test_freeze_action_marks_the_cards_and_undo_restores_them(editor, tmp_path: Path) -> None:  # noqa: ANN001
    graph = editor.session.graph
    stack = editor.session.undo_stack
    backbone = _ids(graph, "fc1", "fc2")
    card = editor.scene.nodes[backbone[0]]
    editor.scene.select_nodes(backbone)
    before = stack.count()
    editor.act_freeze.trigger()
    assert stack.count() == before + 1  # one undo step for the whole selection
    assert stack.undoText() == "Freeze 2 layers"
    assert [graph.node(i).trainable for i in backbone] == [False, False]
    assert all(editor.scene.nodes[i].frozen for i in backbone)
    assert not editor.scene.nodes[graph.node_by_name("head").id].frozen
    assert "Frozen: its weights do not change in training" in card.toolTip()
    frozen_pixels = _render(card)
    stack.undo()
    assert [graph.node(i).trainable for i in backbone] == [True, True]
    assert not card.frozen and "Frozen" not in card.toolTip()
    assert _render(card) != frozen_pixels  # the snowflake and the muted header are gone
    stack.redo()
    assert card.frozen
    editor.scene.select_nodes(backbone)
    editor.act_unfreeze.trigger()
    assert not card.frozen and stack.undoText() == "Unfreeze 2 layers"


def test_inspector_toggles_trainable_and_the_factor(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    (fc1,) = _ids(graph, "fc1")
    editor.scene.select_nodes([fc1])
    inspector = editor.inspector
    assert inspector.node_id == fc1 and inspector.trainable_box.isChecked()
    inspector.trainable_box.setChecked(False)
    assert graph.node(fc1).trainable is False and editor.scene.nodes[fc1].frozen
    inspector.lr_scale_edit.setValue(0.25)
    inspector.lr_scale_edit.editingFinished.emit()
    assert graph.node(fc1).lr_scale == 0.25
    editor.session.undo_stack.undo()
    assert graph.node(fc1).lr_scale == 1.0
    editor.session.undo_stack.undo()
    assert graph.node(fc1).trainable is True and inspector.trainable_box.isChecked()


def test_replace_head_is_one_undo_step(editor) -> None:  # noqa: ANN001
    graph = editor.session.graph
    (head,) = _ids(graph, "head")
    before = graph.to_dict()
    assert editor.replace_head(outputs=5)
    assert graph.node(head).name == "head_new" and graph.node(head).params["out_features"] == 5
    assert editor.scene.nodes[head].name_text == "head_new"
    editor.session.undo_stack.undo()
    assert graph.to_dict() == before


def test_picture_of_a_frozen_backbone(window) -> None:  # noqa: ANN001
    """Renders the digits CNN with everything but the head frozen (docs/frozen-backbone.png when
    WORKBENCH_SCREENSHOTS names the docs folder)."""
    from workbench.training.init_from import backbone

    assert window.open_preset("digits-cnn")
    window.session.flush()
    graph = window.session.graph
    window.scene.select_nodes([n.id for n in backbone(graph) if n.type != "Input"])
    window.act_freeze.trigger()
    window.scene.select_nodes([graph.node_by_name("head").id])
    window.view.fit()
    image = window.view.grab().toImage()
    assert image.width() > 200
    frozen = [i for i in window.scene.nodes.values() if i.frozen]
    assert len(frozen) == 9  # conv1 … relu3
    out = os.environ.get("WORKBENCH_SCREENSHOTS")
    if out:
        # The cards from conv2 to the Output, at twice the size: readable in the README.
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QColor, QPainter

        items = [window.scene.nodes[graph.node_by_name(n).id] for n in ("conv2", "output")]
        left, right = items[0].sceneBoundingRect(), items[1].sceneBoundingRect()
        # The wire into conv2 comes in from the picture's edge: without its shape tag, which
        # the edge would cut in half.
        incoming = next(e for e in window.scene.edges.values() if e.dst is items[0])
        incoming.label_item.setVisible(False)
        area = QRectF(left.left() - 40, left.top() - 40, right.right() - left.left() + 70, left.height() + 80)
        picture = QImage(int(area.width() * 2), int(area.height() * 2), QImage.Format.Format_ARGB32)
        picture.fill(QColor("#ffffff"))
        window.scene.clearSelection()
        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        window.scene.render(painter, QRectF(picture.rect()), area)
        painter.end()
        picture.save(str(Path(out) / "frozen-backbone.png"))


def _render(card) -> bytes:  # noqa: ANN001
    from PySide6.QtGui import QPainter

    image = QImage(int(card.boundingRect().width()) + 2, int(card.boundingRect().height()) + 2,
                   QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    card.paint(painter, None)  # type: ignore[arg-type]
    painter.end()
    return bytes(image.constBits())
