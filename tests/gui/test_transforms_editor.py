"""The image options' form in the Data settings: shown for source "images" only; adding, editing,
moving and removing transforms writes the project's `options` through the undo stack, undo and
redo bring the form back, and a value the reader refuses is refused at the field."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workbench.data.transforms import TRANSFORMS, TRANSLATION_CONTEXT
from workbench.gui.i18n import install_language
from workbench.gui.training.commands import SetRunSettingsCommand
from workbench.gui.training.transforms_editor import ImageOptionsEditor

TS_FILE = Path(__file__).resolve().parents[2] / "assets" / "i18n" / "workbench_zh_CN.ts"


@pytest.fixture
def images(editor, user_edit):  # noqa: ANN001, ANN201
    """The digits-mlp project switched to an image folder (no options yet); its image options' form."""
    form = editor.training.form
    user_edit(form.editor("dataset.source"), "images")
    assert editor.session.project.dataset.source == "images"
    editor.session.undo_stack.clear()
    return form.images


def _add(images: ImageOptionsEditor, name: str) -> None:
    """Pick `name` in the Add menu, as a user does."""
    images.add_menu.aboutToShow.emit()
    action = next(a for a in images.add_menu.actions() if a.data() == name)
    assert action.isEnabled(), f"{name} is not offered"
    action.trigger()


def _options(editor) -> dict:  # noqa: ANN001
    return editor.session.project.dataset.options


def _types(images: ImageOptionsEditor) -> list[str]:
    """The entry types the list shows, in order (each item's first line is "N. type")."""
    return [images.list.item(i).text().splitlines()[0].split(". ", 1)[1] for i in range(images.list.count())]


def _rows_visible(images: ImageOptionsEditor) -> bool:
    form = images.parent()
    shown = [field.isVisibleTo(form) for caption, field in images.rows() if caption is not None]
    assert len(set(shown)) == 1, "some image options' rows are shown and others not"
    return shown[0]


def test_the_image_options_show_for_an_image_folder_only(editor, user_edit) -> None:  # noqa: ANN001
    form = editor.training.form
    source = form.editor("dataset.source")
    assert not _rows_visible(form.images)  # digits
    user_edit(source, "images")
    assert _rows_visible(form.images) and form.images.list.isVisibleTo(form)
    user_edit(form.editor("dataset.path"), "photos")
    user_edit(source, "csv")
    assert not _rows_visible(form.images) and not form.images.list.isVisibleTo(form)
    editor.session.undo_stack.undo()  # back to images: the project's event shows them again
    assert _rows_visible(form.images)
    editor.session.undo_stack.undo()
    editor.session.undo_stack.undo()
    assert editor.session.project.dataset.source == "digits" and not _rows_visible(form.images)
    # The raw JSON options stay for every source.
    assert form.editor("dataset.options").isEnabled()


def test_add_edit_move_and_remove_write_the_options_and_undo_redo_bring_them_back(
        editor, images, user_edit) -> None:  # noqa: ANN001
    stack = editor.session.undo_stack
    states = [dict(_options(editor))]  # the options after each step

    def step(undo_text: str) -> None:
        assert stack.undoText() == undo_text
        states.append(json.loads(json.dumps(_options(editor))))

    _add(images, "horizontal_flip")
    assert _options(editor) == {"transforms": [{"type": "horizontal_flip", "p": 0.5}]}
    step("Add transform horizontal_flip")
    _add(images, "random_resized_crop")  # after the selected entry (the flip)
    assert _options(editor)["transforms"][1] == {"type": "random_resized_crop", "size": [224, 224], "scale": [0.08, 1.0]}
    assert images.list.currentRow() == 1 and set(images.fields) == {"size", "scale"}
    step("Add transform random_resized_crop")

    height, width = images.fields["size"].spins
    user_edit(height, "32")
    user_edit(width, "40")  # the same field again: one undo step
    assert _options(editor)["transforms"][1]["size"] == [32, 40]
    step("Change size of random_resized_crop")
    user_edit(images.field("scale"), "0.5, 1")
    assert _options(editor)["transforms"][1]["scale"] == [0.5, 1.0]
    step("Change scale of random_resized_crop")
    images.select(0)
    assert set(images.fields) == {"p"} and images.field("p").value() == 0.5
    user_edit(images.field("p"), "0.25")
    assert _options(editor)["transforms"][0] == {"type": "horizontal_flip", "p": 0.25}
    step("Change p of horizontal_flip")

    images.select(1)
    images.up_button.click()
    assert [t["type"] for t in _options(editor)["transforms"]] == ["random_resized_crop", "horizontal_flip"]
    assert _types(images) == ["random_resized_crop", "horizontal_flip"] and images.list.currentRow() == 0
    step("Move transform random_resized_crop up")
    images.select(1)
    images.remove_button.click()
    assert _options(editor) == {"transforms": [{"type": "random_resized_crop", "size": [32, 40], "scale": [0.5, 1.0]}]}
    step("Remove transform horizontal_flip")
    assert stack.count() == len(states) - 1 == 7

    # Undo walks back through every state, and the list and the entry's form follow.
    for expected in reversed(states[:-1]):
        stack.undo()
        assert _options(editor) == expected
        assert _types(images) == [t["type"] for t in expected.get("transforms", [])]
    assert images.list.count() == 0 and not images.entry_box.isVisibleTo(images.parent())
    for expected in states[1:]:
        stack.redo()
        assert _options(editor) == expected
        assert _types(images) == [t["type"] for t in expected.get("transforms", [])]
    # The entry's form shows the project's values after an undo.
    stack.undo()  # the flip is back (second), selected where it was removed
    images.select(1)
    stack.undo()  # the move
    images.select(0)
    assert images.field("p").value() == 0.25
    stack.undo()  # p back to 0.5
    assert images.field("p").value() == 0.5
    # The raw JSON options show the same (they follow the same event).
    assert json.loads(editor.training.form.editor("dataset.options").text()) == _options(editor)


def test_a_refused_value_stays_at_its_field_with_the_reason_and_changes_nothing(editor, images, user_edit) -> None:  # noqa: ANN001
    stack = editor.session.undo_stack
    _add(images, "random_resized_crop")
    before, count = dict(_options(editor)), stack.count()
    user_edit(images.field("scale"), "0.5")  # one number where two are needed
    assert _options(editor) == before and stack.count() == count
    assert images.entry_problem.isVisibleTo(images.parent())
    assert "'scale' must be a list of 2 numbers" in images.entry_problem.text()
    assert images.entry_problem.text().startswith("Not changed: ")
    assert images.field("scale").text() == "0.5"  # what the user typed stays, to be corrected
    user_edit(images.field("scale"), "0.5, 2")  # out of the declared range [0.01, 1]
    assert _options(editor) == before and "from 0.01 to 1" in images.entry_problem.text()
    user_edit(images.field("scale"), "0.5, 1")
    assert _options(editor)["transforms"][0]["scale"] == [0.5, 1.0] and not images.entry_problem.isVisibleTo(images.parent())

    # A mean needs its std: refused alone, then both go in with the std's edit.
    _add(images, "normalize")
    before, count = json.loads(json.dumps(_options(editor))), stack.count()
    user_edit(images.field("mean"), "0.5")
    assert _options(editor) == before and stack.count() == count
    assert "needs both mean and std" in images.entry_problem.text()
    user_edit(images.field("std"), "0.25")
    assert _options(editor)["transforms"][1] == {"type": "normalize", "mean": [0.5], "std": [0.25]}
    assert stack.count() == count + 1
    # One normalize per list: the menu offers no second one.
    images.add_menu.aboutToShow.emit()
    assert not next(a for a in images.add_menu.actions() if a.data() == "normalize").isEnabled()


def test_size_channels_and_unreadable_images(editor, images, user_edit) -> None:  # noqa: ANN001
    stack = editor.session.undo_stack
    assert not images.size.spins[0].isEnabled()
    images.size_check.click()
    assert _options(editor) == {"size": [64, 64]} and images.size.spins[0].isEnabled()
    user_edit(images.size.spins[1], "48")
    assert _options(editor) == {"size": [64, 48]}
    user_edit(images.channels, 1)
    user_edit(images.on_error, "skip")
    assert _options(editor) == {"size": [64, 48], "channels": 1, "on_error": "skip"}
    user_edit(images.channels, 0)  # automatic: the option is left out
    assert _options(editor) == {"size": [64, 48], "on_error": "skip"}
    assert stack.undoText() == "Change image channels"
    stack.undo()
    assert images.channels.currentData() == 1
    for _ in range(2):
        stack.undo()
    assert _options(editor) == {"size": [64, 48]}  # ticking the box and setting the size: one step
    assert images.channels.currentData() == 0 and images.on_error.currentData() == "error"
    stack.undo()
    assert _options(editor) == {} and not images.size_check.isChecked()


def test_the_raw_options_and_the_form_show_the_same_project(editor, images, user_edit) -> None:  # noqa: ANN001
    raw = editor.training.form.editor("dataset.options")
    typed = {"cache": False, "transforms": [{"type": "rotation", "degrees": 30}, {"type": "normalize"}]}
    user_edit(raw, json.dumps(typed))
    assert _options(editor) == typed and _types(images) == ["rotation", "normalize"]
    images.select(0)
    assert images.field("degrees").value() == 30
    user_edit(images.field("degrees"), "45")
    assert _options(editor) == {"cache": False, "transforms": [{"type": "rotation", "degrees": 45.0},
                                                                {"type": "normalize"}]}  # the other option is kept
    assert json.loads(raw.text()) == _options(editor)
    # An older project's `augment` is shown as the transforms it means, and written as such on an edit.
    project = editor.session.project
    editor.session.undo_stack.push(SetRunSettingsCommand(
        project, "dataset.options", dataset=project.dataset.replace(options={"augment": ["flip"]})))
    assert _types(images) == ["horizontal_flip"]
    images.select(0)
    user_edit(images.field("p"), "0.75")
    assert _options(editor) == {"transforms": [{"type": "horizontal_flip", "p": 0.75}]}
    # Options the reader refuses are shown as such; the form edits nothing until they are fixed.
    editor.session.undo_stack.push(SetRunSettingsCommand(
        project, "dataset.options", dataset=project.dataset.replace(options={"transforms": "flip"})))
    assert images.list.count() == 0 and "cannot be shown" in images.list_problem.text()


def test_every_transform_doc_is_translated_and_shown_so(images) -> None:  # noqa: ANN001
    docs = {t.doc for t in TRANSFORMS.values()} | {f.doc for t in TRANSFORMS.values() for f in t.fields}
    translated = {}
    for context in ET.parse(TS_FILE).getroot().iter("context"):
        if context.findtext("name") == TRANSLATION_CONTEXT:
            for message in context.iter("message"):
                translation = message.find("translation")
                if translation is not None and translation.get("type") is None and translation.text:
                    translated[message.findtext("source")] = translation.text
    assert docs <= set(translated), f"untranslated: {sorted(docs - set(translated))[:3]}"

    _add(images, "horizontal_flip")
    assert images.list.item(0).toolTip() == "Mirror left to right with probability p"
    assert install_language("zh_CN") == "zh_CN"
    try:
        images.retranslate()
        assert images.list.item(0).toolTip() == translated["Mirror left to right with probability p"]
        assert images.entry_doc.text() == translated["Mirror left to right with probability p"]
        assert images.field("p").toolTip() == translated["probability"]
        assert images.captions["transforms"].text() == "变换"
        assert "仅训练" in images.list.item(0).text()
    finally:
        install_language("en")
        images.retranslate()
    assert images.captions["transforms"].text() == "Transforms"
