"""The output budget (pure logic)."""

from __future__ import annotations

from collab_mcp_notebook.outputs import OutputBudget, OutputView, cut, settle_carriage_returns


def test_cut_keeps_head_and_tail_and_says_how_much_went() -> None:
    text = "".join(f"{i:04d}\n" for i in range(1000))
    shown, note = cut(text, 300)
    assert shown.startswith("0000\n") and shown.endswith("0999\n")
    assert note == f"{len(text) - 300} of {len(text)} characters cut (page through the whole output with read_cell_output)"
    assert cut("short", 300) == ("short", None)


def test_fit_shares_the_budget_fairly() -> None:
    views = [OutputView(output_type="stream", text=t) for t in ("a" * 50, "b" * 5000, "c" * 5000)]
    given = list(views)
    OutputBudget(chars=1050, image_bytes=0, images_left=0).fit([views])
    assert given[1].text == "b" * 5000 and given[1].note is None  # cut views are copies: shared ones never change
    assert views[0] is given[0]
    assert views[0].text == "a" * 50 and views[0].note is None  # short outputs stay whole
    assert views[1].text.startswith("b" * 300) and views[1].text.endswith("b" * 100)
    assert views[1].note and views[2].note and "characters cut" in views[2].note


def test_error_tracebacks_lose_ansi_and_streams_settle_progress_bars() -> None:
    budget = OutputBudget(chars=1000, image_bytes=0, images_left=0)
    error = budget.view(
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["\x1b[0;31mE\x1b[0m: v", "line"]}
    )
    assert error.text == "E: v\nline"
    stream = budget.view({"output_type": "stream", "name": "stderr", "text": "10%\r60%\r100%\ndone\n"})
    assert stream.text == "100%\ndone\n"
    assert settle_carriage_returns("no returns") == "no returns"


def test_images_are_capped_and_counted() -> None:
    budget = OutputBudget(chars=100, image_bytes=30, images_left=1)
    small = budget.view({"output_type": "display_data", "data": {"image/png": "A" * 40, "text/plain": "<Figure>"}})
    big = budget.view({"output_type": "display_data", "data": {"image/png": "A" * 400}})
    more = budget.view({"output_type": "display_data", "data": {"image/jpeg": "A" * 8}})
    assert len(budget.images) == 1 and budget.images[0].mime_type == "image/png"
    assert "image content #1" in small.note and small.text == "<Figure>"
    assert "larger than the 30-byte cap" in big.note
    assert "limit per call reached" in more.note


def test_too_many_outputs_for_a_fair_cut_are_kept_in_order_then_left_out() -> None:
    # 2,000 short outputs and 4,000 characters: a fair share would be 2 characters each, less than
    # a cut's own note. Outputs are kept whole in order instead, and the rest are left out and counted.
    groups = [[OutputView(output_type="stream", name="stdout", text=f"{i:09d}\n") for i in (2 * c, 2 * c + 1)]
              for c in range(1000)]
    budget = OutputBudget(chars=4000, image_bytes=0, images_left=0)
    lost = budget.fit(groups)
    kept = [v.text for group in groups for v in group]
    assert kept == [f"{i:09d}\n" for i in range(400)]  # a prefix, whole
    assert lost == [0] * 200 + [2] * 800 and budget.omitted == 1600
    assert "1600 output(s) were left out" in budget.omitted_note() and "4,000" in budget.omitted_note()


def test_a_cell_cut_in_the_middle_keeps_its_first_outputs_and_outputs_without_text() -> None:
    image = OutputView(output_type="display_data", mime_types=["image/png"], note="image/png image of 40 bytes")
    groups = [[OutputView(output_type="stream", text="a" * 90)] * 30, [image, OutputView(output_type="stream", text="b")]]
    lost = OutputBudget(chars=1000, image_bytes=0, images_left=0).fit(groups)
    assert lost == [19, 1] and len(groups[0]) == 11 and groups[1] == [image]


def test_a_budget_that_fits_omits_nothing() -> None:
    budget = OutputBudget(chars=4000, image_bytes=0, images_left=0)
    budget.fit([[OutputView(output_type="stream", text="short")]])
    assert budget.omitted == 0 and budget.omitted_note() is None
