"""The report's pictures, read from the matplotlib figures themselves (artists, their colours,
markers, data and text boxes), not from pixels:

- every backend, a registered plug-in and one this process does not know included, has a colour
  and a marker of its own in every picture that shows backends;
- the distance plot draws each value's bound;
- the heatmap's cells are ULPs / bound, computed here from the records; its blanks are told
  apart and explained, its labels horizontal and apart;
- the network's labels do not overlap, for the post's network and wider ones;
- the training picture has a panel of each backend's distance from the exact E_total;
- a report has pictures for every case in it, each case in a section of its own."""

from __future__ import annotations

import copy
import json
import math
import re
from decimal import Decimal
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.text import Text

from bpcheck import backends
from bpcheck.cli import main
from bpcheck.reporting import model, plots, render, results
from tests.test_report import small_report

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "reports" / "baseline" / "results.json"
PLUGIN, STRANGER = "my-plugin", "from-another-machine"  # registered here; known to no registry


@cache
def baseline() -> dict:
    """The committed full report's document: every bundled case, seven backends, two dtypes."""
    return results.load(BASELINE)


def fresh(doc: dict) -> dict:
    return json.loads(json.dumps(doc))


@pytest.fixture
def plugin():
    """A backend a plug-in registers, declaring no colour or marker of its own."""
    backends.register(PLUGIN, lambda: None)
    yield PLUGIN
    backends.unregister(PLUGIN)


def many_backends(extra: list[str]) -> dict:
    """The small report's document with every bundled backend, and `extra`, as copies of its
    values and curves (moved by a few ULPs, so that they are not all the same)."""
    doc = results.load(small_report())
    names = [n for n in backends.bundled() if n not in ("reference", "numpy")] + extra
    recs, curves = doc["records"], doc["curves"]
    for k, name in enumerate(names):
        doc["records"] += [{**r, "backend": name, "ulps": r["ulps"] + k if r["ulps"] else r["ulps"]} for r in recs]
        doc["curves"] += [{**c, "backend": name} for c in curves]
    return doc


def marker_key(artist) -> tuple:
    """What marker an artist draws, comparable across Line2D and scatter collections."""
    if isinstance(artist, Line2D):
        ms = MarkerStyle(artist.get_marker())
        path = ms.get_path().transformed(ms.get_transform())
    else:
        path = artist.get_paths()[0]
    v = path.vertices / max(np.abs(path.vertices).max(), 1e-12)
    return tuple(np.round(v, 3).ravel()) + tuple(path.codes if path.codes is not None else ())


def backend_artists(fig) -> dict[str, list]:
    """Artists that stand for a backend, by backend: those tagged `backend:<name>`."""
    out: dict[str, list] = {}
    for a in fig.findobj(lambda a: str(a.get_gid() or "").startswith("backend:")):
        out.setdefault(a.get_gid().split(":", 1)[1], []).append(a)
    return out


def colours(artist) -> set[str]:
    """The colours an artist draws in (a scatter's faces, or its edges where it has no faces)."""
    if isinstance(artist, Line2D):
        return {to_hex(artist.get_color())}
    faces = [c for c in artist.get_facecolor() if c[3] > 0]
    return {to_hex(c) for c in (faces or [c for c in artist.get_edgecolor() if c[3] > 0])}


@pytest.mark.parametrize("picture", ["training", "heatmap", "distance"])
def test_every_backend_has_its_own_colour_and_marker(picture, plugin):
    everyone = backends.bundled() + [PLUGIN, STRANGER]
    doc = many_backends([PLUGIN, STRANGER])
    with plots.no_tex():
        fig = plots.figure(picture, doc, "mazur-2015")
    found = backend_artists(fig)
    assert set(found) == set(everyone), f"{picture}: backends without an artist: {set(everyone) - set(found)}"
    colour, marker = {}, {}
    for name, artists in found.items():
        cs = set().union(*(colours(a) for a in artists))
        assert len(cs) == 1, f"{picture}: {name} is drawn in {cs}"
        colour[name] = cs.pop()
        marked = [a for a in artists if not isinstance(a, Line2D) or a.get_marker() not in (None, "None", "", " ")]
        assert marked, f"{picture}: {name} has no marker"
        keys = {marker_key(a) for a in marked}
        assert len(keys) == 1, f"{picture}: {name} has {len(keys)} markers"
        marker[name] = keys.pop()
    assert len(set(colour.values())) == len(everyone), f"{picture}: shared colours {colour}"
    assert len(set(marker.values())) == len(everyone), f"{picture}: shared markers"
    for name in backends.bundled() + [PLUGIN]:  # the declared colour (the plug-in's: the one it was given)
        assert colour[name] == to_hex(backends.declaration(name).color), name


def test_a_backend_has_the_same_colour_in_every_picture():
    """Two backends this process does not know, one with values alone, the other with values
    and curves: each keeps one colour across the pictures."""
    doc = many_backends(["zz-stranger", "aa-stranger"])
    doc["curves"] = [c for c in doc["curves"] if c["backend"] != "aa-stranger"]
    seen: dict[str, set[str]] = {}
    with plots.no_tex():
        for picture in ("training", "heatmap", "distance"):
            for name, artists in backend_artists(plots.figure(picture, doc, "mazur-2015")).items():
                seen.setdefault(name, set()).update(*(colours(a) for a in artists))
    assert all(len(c) == 1 for c in seen.values()), seen


def test_a_stranger_gets_a_style_no_known_backend_has(plugin):
    looks = plots.styles([STRANGER, "another-stranger", "numpy"])
    known = {(d.color, d.marker) for d in map(backends.declaration, backends.names())}
    assert looks[STRANGER] != looks["another-stranger"]
    assert looks[STRANGER][0] not in {c for c, _ in known} and looks[STRANGER][1] not in {m for _, m in known}
    assert looks["numpy"] == plots.backend_style("numpy")


# --- the distance plot --------------------------------------------------------------------------


def panels(fig) -> dict[str, object]:
    """The distance plot's axes by dtype (their titles start with it)."""
    return {ax.get_title().split(":")[0]: ax for ax in fig.axes if ax.get_title()}


def test_the_distance_plot_draws_each_values_bound():
    doc = baseline()
    case = "mazur-2015"
    with plots.no_tex():
        fig = plots.figure("distance", doc, case)
    rows = plots.value_rows(doc, case)
    at = {key: i for i, r in enumerate(rows) for key in r.keys}
    by_dtype = panels(fig)
    assert set(by_dtype) == {"float64", "float32"}
    widest: dict[tuple[str, int], float] = {}
    for dtype, ax in by_dtype.items():
        ticks = {
            (round(float(x), 6), round(float(y), 6))
            for c in ax.collections
            if c.get_gid() == "bound"
            for x, y in c.get_offsets()
        }
        bars = [p for p in ax.patches if p.get_gid() == "bound"]
        right = ax.get_xlim()[1]
        for r in plots.case_records(doc, case):
            a = r["allowed_ulps"]
            if r["dtype"] != dtype or a is None or not math.isfinite(a) or a <= 0:
                continue
            i = at[(r["quantity"], r["config"])]
            if a < right:  # a bound beyond the axis is drawn at its edge (checked below)
                assert (round(a, 6), float(i)) in ticks, f"{dtype} {r['quantity']}: no | at its bound {a}"
            (bar,) = [p for p in bars if abs(p.get_y() + p.get_height() / 2 - i) < 1e-9]
            reach = bar.get_x() + bar.get_width()
            assert reach >= min(a, right) * (1 - 1e-9), f"{dtype} {r['quantity']}: the bar stops short of {a}"
            widest[(dtype, i)] = max(widest.get((dtype, i), 0.0), min(a, right))
        for (dt, i), a in widest.items():  # a row's bar reaches its widest bound, no further
            if dt == dtype:
                (bar,) = [p for p in bars if abs(p.get_y() + p.get_height() / 2 - i) < 1e-9]
                assert math.isclose(bar.get_x() + bar.get_width(), a, rel_tol=1e-9)
        # each backend's marker at its value's ULPs
        for r in plots.case_records(doc, case):
            if r["dtype"] == dtype and r["backend"] == "numpy" and r["ulps"]:
                (c,) = [c for c in ax.collections if c.get_gid() == "backend:numpy"]
                xs = {round(float(x), 6) for x, _ in c.get_offsets()}
                assert round(float(r["ulps"]), 6) in xs


def test_a_bound_far_beyond_every_value_runs_off_the_edge():
    doc = baseline()
    with plots.no_tex():
        fig = plots.figure("distance", doc, "relu-kink")  # net_h1's bound: ~1e307 ULPs (an exact 0 nearby)
    for ax in panels(fig).values():
        right = ax.get_xlim()[1]
        assert right < 1e30
        edge = [c for c in ax.collections if c.get_gid() == "bound" and any(x >= right for x, _ in c.get_offsets())]
        assert edge, "no mark at the edge for a bound beyond it"


# --- the heatmap --------------------------------------------------------------------------------


def heat_image(fig):
    (im,) = [im for ax in fig.axes for im in ax.images if im.get_gid() == "ulps-over-bound"]
    return im


def expected_ratio(r: dict) -> float | None:
    """ULPs over the allowed ULPs, as the issue asks (0 for a value equal to its exact one)."""
    if r["ulps"] is None or r["allowed_ulps"] is None or not math.isfinite(r["allowed_ulps"]):
        return None
    if r["ulps"] == 0:
        return 0.0
    return math.inf if r["allowed_ulps"] == 0 else r["ulps"] / r["allowed_ulps"]


def check_heatmap(doc: dict, case: str) -> None:
    with plots.no_tex():
        fig = plots.figure("heatmap", doc, case)
    data = np.ma.filled(heat_image(fig).get_array().astype(float), np.nan)
    rows, cols = plots.value_rows(doc, case), plots.columns(doc, case)
    assert data.shape == (len(rows), len(cols))
    # the labels say which row and column is which
    ax = heat_image(fig).axes
    row_texts = sorted((t.get_position()[1], t.get_text()) for t in ax.texts if t.get_gid() == "row")
    assert [t for _, t in row_texts] == [plots.plain(r.label) for r in rows]
    heads = {t.get_gid(): t.get_text() for t in ax.texts if str(t.get_gid()).startswith("column:")}
    assert [heads[f"column:{j}"] for j in range(len(cols))] == [c[0] for c in cols]
    want = np.full(data.shape, np.nan)
    at_row = {key: i for i, r in enumerate(rows) for key in r.keys}
    for r in plots.case_records(doc, case):
        x = expected_ratio(r)
        if x is None:
            continue
        i, j = at_row[(r["quantity"], r["config"])], cols.index((r["backend"], r["dtype"], r["device"]))
        x = min(x, plots.RATIO_CLIP)
        want[i, j] = x if np.isnan(want[i, j]) else max(want[i, j], x)  # a shared row: its worst value
    np.testing.assert_array_equal(np.isnan(data), np.isnan(want))
    np.testing.assert_allclose(data[~np.isnan(data)], want[~np.isnan(want)], rtol=1e-12)


def test_the_heatmap_shows_ulps_over_the_bound():
    check_heatmap(baseline(), "mazur-2015")


def test_a_shared_row_shows_its_worst_value(monkeypatch):
    monkeypatch.setattr(plots, "OTHER_ROWS", 20)
    doc = baseline()
    rows = plots.value_rows(doc, "xor-h3")
    assert len(rows) <= 20 and any(len(r.keys) > 1 for r in rows)
    check_heatmap(doc, "xor-h3")


def test_a_batchs_examples_share_a_row():
    rows = plots.value_rows(baseline(), "deep-mixed")  # 380 quantities
    assert len(rows) <= plots.OTHER_ROWS
    assert sum(len(r.keys) for r in rows) == len({(r["quantity"], r["config"]) for r in
                                                   plots.case_records(baseline(), "deep-mixed")})  # fmt: skip
    assert [r.stage for r in rows] == sorted((r.stage for r in rows), key=plots.STAGES.index)


def test_the_heatmaps_blanks_are_told_apart_and_explained():
    doc = fresh(baseline())
    case = "mazur-2015"
    recs = plots.case_records(doc, case)
    dropped = [r for r in recs if r["backend"] == "numpy" and r["dtype"] == "float64" and r["quantity"] == "out_h1"]
    unbounded = next(r for r in recs if r["backend"] == "torch" and r["dtype"] == "float32" and r["quantity"] == "E_o1")
    unbounded["allowed_ulps"] = None
    doc["records"] = [r for r in doc["records"] if not any(r is d for d in dropped)]
    with plots.no_tex():
        fig = plots.figure("heatmap", doc, case)
    rows, cols = plots.value_rows(doc, case), plots.columns(doc, case)
    i_out = next(i for i, r in enumerate(rows) if r.keys == [("out_h1", "as-written")])
    i_e = next(i for i, r in enumerate(rows) if r.keys == [("E_o1", "as-written")])
    j_np, j_t = cols.index(("numpy", "float64", "cpu")), cols.index(("torch", "float32", "cpu"))
    ax = heat_image(fig).axes
    (grey,) = [im for im in ax.images if im.get_gid() == "no-ratio"]
    ratio, no_ratio = heat_image(fig).get_array(), grey.get_array()
    assert np.ma.is_masked(ratio[i_out, j_np]) and np.ma.is_masked(no_ratio[i_out, j_np])  # not computed: neither
    assert np.ma.is_masked(ratio[i_e, j_t]) and not np.ma.is_masked(no_ratio[i_e, j_t])  # no bound: grey
    legend = " ".join(t.get_text() for lg in fig.legends for t in lg.get_texts())
    for words in ("not computed", "no finite bound", "failing", "ill-conditioned"):
        assert words in legend, words
    assert "not computed" in plots.CAPTIONS["heatmap"] and "Grey" in plots.CAPTIONS["heatmap"]


def text_boxes(fig, only=lambda t: True) -> list:
    """(text, box) of every text the figure draws, as the renderer measures it."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    hidden = {id(t) for ax in fig.axes if not ax.axison for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(Text)}
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in hidden and only(t)
    ]


def overlapping(boxes: list) -> list:
    return [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]


@pytest.mark.parametrize("case", ["mazur-2015", "deep-mixed"])
def test_the_heatmaps_labels_are_level_and_apart(case):
    with plots.no_tex():
        fig = plots.figure("heatmap", baseline(), case)
    ax = heat_image(fig).axes
    labels = [t for t in ax.texts if t.get_gid() == "row" or str(t.get_gid()).startswith("column:")]
    assert labels and all(t.get_rotation() == 0 for t in labels)
    boxes = text_boxes(fig, lambda t: t in labels)
    assert not overlapping(boxes)


# --- the network --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["mazur-2015", "mazur-2015-per-neuron-bias-updates", "saturated-sigmoid", "xor-h5",
                                  "softmax-classifier", "deep-mixed"])  # fmt: skip
def test_the_networks_labels_do_not_overlap(case):
    doc = baseline()
    with plots.no_tex():
        fig = plots.figure("network", doc, case)
    boxes = text_boxes(fig)
    assert not overlapping(boxes), overlapping(boxes)[:3]
    frame = fig.bbox
    for text, b in boxes:
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1, f"{text!r} outside"
    # every parameter is labelled, before and after its update
    shown = "\n".join(t for t, _ in boxes)
    info = doc["cases"][case]
    for p in info["parameters"]:
        assert re.search(rf"(^|\s){re.escape(p)}\s", shown, re.MULTILINE), f"{p} is not labelled"
    after = [r for r in plots.case_records(doc, case) if r["quantity"].endswith("+") and r["dtype"] == "float64"]
    assert after and all(f"{float(r['exact']):.8g}" in shown for r in after)


def test_the_posts_network_has_its_labels_on_its_edges():
    with plots.no_tex():
        fig = plots.figure("network", baseline(), "mazur-2015")
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert "w5 = 0.4 -> 0.35891648" in texts  # on its edge, as the post draws it; no listing
    assert not any("\n" in t for t in texts)


# --- the training curves ------------------------------------------------------------------------


def test_the_training_picture_has_a_panel_of_differences_from_exact():
    doc = results.load(small_report())
    with plots.no_tex():
        fig = plots.figure("training", doc, "mazur-2015")
    assert fig.axes[0].get_yscale() == "log"
    lower = [ax for ax in fig.axes[1:] if ax.get_yscale() == "symlog"]
    assert lower, "no panel of differences"
    for c in doc["curves"]:
        want = [
            float(u) * (1 if Decimal(repr(v)) >= Decimal(e) else -1)
            for v, e, u in zip(c["values"], c["exact"], c["ulps"])
        ]
        drawn = [
            list(line.get_ydata())
            for ax in lower
            for line in ax.get_lines()
            if line.get_gid() == f"backend:{c['backend']}" and c["dtype"] in ax.get_ylabel()
        ]
        assert drawn and all(np.array_equal(np.asarray(d, float), want) for d in drawn), c["backend"]
    assert any(np.any(np.asarray(d) != 0) for ax in lower for d in (ln.get_ydata() for ln in ax.get_lines()))


def test_the_training_picture_draws_the_bound_of_its_last_step():
    doc = fresh(baseline())
    with plots.no_tex():
        fig = plots.figure("training", doc, "mazur-2015")
    bound = [a for a in fig.findobj(lambda a: a.get_gid() == "bound")]
    assert bound  # E_total@10000's allowed ULPs


# --- the report ---------------------------------------------------------------------------------


QUICK = ["--backend", "reference,numpy", "--dtype", "float64", "--no-trajectories", "--steps", "20"]
QUICK += ["--jobs", "1", "--quiet"]
CASES = ["mazur-2015", "xor-h2", "relu-kink", "cancelling-gradient"]


def test_a_report_has_pictures_for_every_case(tmp_path):
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--case", ",".join(CASES), *QUICK]) == 0
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    doc = results.load(out)
    files = model.picture_files(doc)
    for case in CASES:
        anchor = f"pictures-{model.slugs(doc)[case]}"
        assert f'<h3 id="{anchor}">' in page and f'href="#{anchor}"' in page, case
        assert f'<a id="{anchor}"></a>' in md and f"(#{anchor})" in md, case
        for picture in plots.pictures(doc, case):
            name = files[(case, picture)] + ".png"
            assert (out / name).read_bytes().startswith(b"\x89PNG"), name
            assert f"]({name})" in md, name
            assert f'<figure id="{files[(case, picture)]}">' in page, name
        assert {"network", "heatmap"} <= set(plots.pictures(doc, case)), case
    assert plots.pictures(doc, "mazur-2015") == list(plots.PICTURES)  # the main case in full
    assert "training" not in plots.pictures(doc, "xor-h2")  # no curves drawn for it
    assert page.count('src="data:image/png;base64,') == sum(len(plots.pictures(doc, c)) for c in CASES)
    # the main case first
    assert page.index(f'id="pictures-{model.slugs(doc)["mazur-2015"]}"') < page.index('id="pictures-xor-h2"')


def test_odd_case_names_get_distinct_safe_file_names():
    doc = {"cases": {"a b": {}, "a/b": {}, "a-b": {}, "../x": {}, "$": {}}, "records": []}
    slugs = model.slugs(doc)
    assert len({s.lower() for s in slugs.values()}) == len(slugs)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", s) and not s.startswith(".") for s in slugs.values())
    files = model.picture_files(doc)
    assert len(set(files.values())) == len(files)


def test_pictures_draw_a_document_of_records_alone():
    """`bpcheck run`'s results.json has no cases: no picture, no error."""
    doc = copy.deepcopy(results.load(small_report()))
    doc["cases"], doc["curves"] = {}, []
    assert model.picture_files(doc) == {}
    assert not [b for b in model.blocks(doc) if isinstance(b, model.Image)]


def test_a_failing_value_is_marked_in_the_heatmap_and_the_distance_plot():
    doc = fresh(baseline())
    case = "mazur-2015"
    bad = next(
        r
        for r in plots.case_records(doc, case)
        if (r["backend"], r["dtype"], r["quantity"]) == ("numpy", "float64", "dE_total/dw5")
    )
    bad.update(ulps=300.0, verdict="fail")
    with plots.no_tex():
        heat, dist = plots.figure("heatmap", doc, case), plots.figure("distance", doc, case)
    rows, cols = plots.value_rows(doc, case), plots.columns(doc, case)
    i = next(k for k, r in enumerate(rows) if r.keys == [("dE_total/dw5", "as-written")])
    j = cols.index(("numpy", "float64", "cpu"))
    shown = heat_image(heat).get_array()[i, j]
    assert shown == pytest.approx(300.0 / bad["allowed_ulps"]) and shown > 1
    (x,) = [c for c in heat_image(heat).axes.collections if c.get_gid() == "failing"]
    assert [tuple(p) for p in x.get_offsets()] == [(j, i)]
    (ring,) = [c for c in panels(dist)["float64"].collections if c.get_gid() == "failing"]
    assert ring.get_offsets()[0][0] == 300.0
    assert not [c for c in panels(dist)["float32"].collections if c.get_gid() == "failing"]


def test_the_committed_baselines_report_md_has_no_picture_section():
    md = render.markdown(baseline(), None)  # reports/baseline/ keeps no picture files
    assert "## Pictures" not in md and ".png" not in md and "## Every value" in md


def test_an_overflowed_curve_step_is_a_gap():
    """A curve's null steps (an overflow, written as null in results.json) are gaps, not an error."""
    doc = fresh(results.load(small_report()))
    c = doc["curves"][1]
    c["values"][5] = c["ulps"][5] = None
    with plots.no_tex():
        fig = plots.figure("training", doc, "mazur-2015")
        assert plots._png(fig, palette=True).startswith(b"\x89PNG")
    drawn = [ln.get_ydata() for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == f"backend:{c['backend']}"]
    assert drawn and all(math.isnan(d[5]) and not math.isnan(d[4]) for d in drawn)
