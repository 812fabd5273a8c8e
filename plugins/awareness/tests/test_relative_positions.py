"""Yjs relative positions <-> character offsets, against ids derived by hand from Yjs's rules.

Yjs gives each client's characters consecutive clocks counted in UTF-16 units,
so the id of every character below is known without asking pycrdt.
"""

from __future__ import annotations

import pytest
from pycrdt import Array, Assoc, Doc, Map, Text

from collab_mcp_awareness.relative_positions import PositionError, deleted_offset, end_position, scratch_copy, text_ids


def sync(a: Doc, b: Doc) -> None:
    b.apply_update(a.get_update(b.get_state()))
    a.apply_update(b.get_update(a.get_state()))


def two_client_text() -> Doc:
    """'hé😀üllowörld': client 1 typed 'héllo', client 2 put '😀ü' after 'hé', client 1 added 'wörld'."""
    one, two = Doc(client_id=1), Doc(client_id=2)
    one.get("source", type=Text).insert(0, "héllo")
    sync(one, two)
    two.get("source", type=Text).insert(len("hé".encode()), "😀ü")
    sync(one, two)
    text = one.get("source", type=Text)
    text.insert(len(str(text).encode()), "wörld")
    return one


EXPECTED = [  # character: (client, clock, UTF-16 units)
    ("h", (1, 0, 1)), ("é", (1, 1, 1)), ("😀", (2, 0, 2)), ("ü", (2, 2, 1)), ("l", (1, 2, 1)), ("l", (1, 3, 1)),
    ("o", (1, 4, 1)), ("w", (1, 5, 1)), ("ö", (1, 6, 1)), ("r", (1, 7, 1)), ("l", (1, 8, 1)), ("d", (1, 9, 1)),
]


def test_every_character_gets_its_yjs_id_with_accents_and_emoji_in_the_same_and_earlier_blocks():
    doc = two_client_text()
    ids = text_ids(scratch_copy(doc).get("source", type=Text))
    assert ids.text == "hé😀üllowörld" == "".join(c for c, _ in EXPECTED)
    assert list(ids.ids.values()) == [i for _, i in EXPECTED] and list(ids.ids) == list(range(len(EXPECTED)))
    assert str(doc.get("source", type=Text)) == "hé😀üllowörld"  # the original is untouched


def test_relative_positions_round_trip_and_match_yjs():
    ids = text_ids(scratch_copy(two_client_text()).get("source", type=Text))
    for offset, (_, (client, clock, _units)) in enumerate(EXPECTED):
        position = ids.relative_position(offset)
        assert position["item"] == {"client": client, "clock": clock} and position["assoc"] == 0
        assert ids.offset(position) == offset
    end = ids.relative_position(len(EXPECTED))
    assert end["item"] == {"client": 1, "clock": 9} and end["assoc"] == -1  # after the last character
    assert ids.offset(end) == len(EXPECTED)
    # Yjs positions with assoc -1 name the character on the left: after the emoji's low surrogate.
    assert ids.offset({"item": {"client": 2, "clock": 1}, "assoc": -1}) == 3
    assert ids.offset({"item": {"client": 2, "clock": 1}, "assoc": 0}) == 2  # half an emoji rounds down
    assert ids.offset({"type": None, "tname": "source", "item": None, "assoc": 0}) == len(EXPECTED)
    assert ids.offset({"tname": "source", "assoc": -1}) == 0


def test_ids_computed_for_a_few_offsets_match_the_full_table():
    doc = two_client_text()
    full = text_ids(scratch_copy(doc).get("source", type=Text))
    for offset in range(len(EXPECTED) + 1):
        few = text_ids(scratch_copy(doc).get("source", type=Text), offsets=[0, offset])
        assert few.relative_position(offset) == full.relative_position(offset)
        assert len(few.ids) <= 2
    several = text_ids(scratch_copy(doc).get("source", type=Text), offsets=[3, 8, 12, 2])
    assert {k: several.ids[k] for k in (2, 3, 8, 11)} == {k: full.ids[k] for k in (2, 3, 8, 11)}
    with pytest.raises(PositionError):
        several.relative_position(5)  # not computed


def test_a_later_insert_between_characters_is_not_mistaken_for_the_same_block():
    # Client 1 types 'é' (clock 0), then 'x' after it (clock 1), then 'y' between them (clock 2).
    # 'y' sits 2 bytes after 'é', exactly where 'é''s block would continue if it counted bytes:
    # only real ids tell that 'y' is clock 2 and not clock 1 (which is 'x').
    doc = Doc(client_id=1)
    text = doc.get("source", type=Text)
    text.insert(0, "é")
    text.insert(len("é".encode()), "x")
    text.insert(len("é".encode()), "y")
    assert str(text) == "éyx"
    ids = text_ids(scratch_copy(doc).get("source", type=Text))
    assert [i[:2] for i in ids.ids.values()] == [(1, 0), (1, 2), (1, 1)]


def test_cell_sources_are_named_by_their_item_at_the_ends():
    doc = Doc(client_id=7)
    cells = doc.get("cells", type=Array)
    cells.append(Map({"id": "a", "source": Text("ça 😀")}))
    cells.append(Map({"id": "b", "source": Text("")}))
    scratch = scratch_copy(doc)
    first, empty = (text_ids(c["source"]) for c in scratch.get("cells", type=Array))
    assert "type" in first.type_ref and "type" in empty.type_ref and first.type_ref != empty.type_ref
    # JupyterLab's cursor at the end of a cell: the text itself, assoc 0.
    assert first.offset({"type": first.type_ref["type"], "tname": None, "item": None, "assoc": 0}) == 4
    assert empty.offset({"type": first.type_ref["type"], "item": None, "assoc": 0}) is None
    start = empty.relative_position(0)
    assert start["type"] == empty.type_ref["type"] and start["item"] is None and empty.offset(start) == 0
    assert first.offset(empty.relative_position(0)) is None


def test_deleted_characters_and_bad_input():
    doc = two_client_text()
    text = doc.get("source", type=Text)
    del text[len("hé😀ü".encode()):len("hé😀üllo".encode())]  # delete 'llo' (client 1, clocks 2-4)
    ids = text_ids(scratch_copy(doc).get("source", type=Text))
    assert ids.text == "hé😀üwörld"
    on_deleted = {"item": {"client": 1, "clock": 3}, "assoc": 0}
    assert ids.offset(on_deleted) is None
    assert deleted_offset(scratch_copy(doc).get("source", type=Text), ids.text, on_deleted) == 4
    assert ids.offset({"item": {"client": 99, "clock": 0}, "assoc": 0}) is None
    assert deleted_offset(scratch_copy(doc).get("source", type=Text), ids.text, {"item": {"client": 99, "clock": 5}}) is None
    for bad in ("nope", {"item": {"client": "x", "clock": 0}}, {"item": [1, 2]}, {"item": {"client": 1, "clock": -1}},
                {"item": {"client": 1, "clock": 0}, "assoc": "left"}):
        with pytest.raises(PositionError):
            ids.offset(bad)
    with pytest.raises(PositionError):
        ids.relative_position(len(ids.text) + 1)


def test_pycrdt_sticky_index_really_is_wrong_here():
    """Why this module exists: if pycrdt gets fixed, this fails and the workaround can go."""
    text = two_client_text().get("source", type=Text)
    position = text.sticky_index(len("hé😀".encode()), Assoc.AFTER).to_json()  # before 'ü' = (2, 2)
    assert position["item"] != {"client": 2, "clock": 2}


def test_a_position_on_an_item_not_received_yet_is_unresolved_without_a_panic(capfd):
    # A collaborator's cursor can arrive before the edit that made its character.
    doc = two_client_text()
    text = doc.get("source", type=Text)
    for item in ({"client": 3, "clock": 0}, {"client": 1, "clock": 10_000}):
        assert deleted_offset(text, str(text), {"item": item, "assoc": 0}) is None
    assert "panicked" not in capfd.readouterr().err


def test_a_position_on_a_deleted_character_is_where_it_was():
    doc = two_client_text()
    text = doc.get("source", type=Text)
    position = {"item": {"client": 2, "clock": 2}, "assoc": 0}  # on 'ü' (after the two units of 😀)
    del text[len("hé".encode()):len("hé😀ü".encode())]
    assert deleted_offset(text, str(text), position) == len("hé")


def test_the_end_of_an_ascii_text_is_asked_of_pycrdt_directly_and_agrees_with_the_ids():
    one, two = Doc(client_id=1), Doc(client_id=2)
    one.get("source", type=Text).insert(0, "hello")
    sync(one, two)
    two.get("source", type=Text).insert(2, "XYZ")
    sync(one, two)
    one.get("source", type=Text).insert(len("heXYZllo"), " world")
    text = one.get("source", type=Text)
    expected = text_ids(scratch_copy(one).get("source", type=Text), [len(str(text))]).relative_position(len(str(text)))
    assert end_position(text) == expected == {"type": None, "tname": None, "item": {"client": 1, "clock": 10}, "assoc": -1}
    assert end_position(two_client_text().get("source", type=Text)) is None  # not ASCII: pycrdt would count bytes
