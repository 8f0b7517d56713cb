"""The Dynamics tab's views, fed synthetic results and driven by real mouse and key events.

The regime map's points sit on a lattice (x = frame + 0.3, y = sequence + 0.3), far
apart on screen, so the point under a position is known without the widget's help.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest

from kvae_studio import colors
from kvae_studio.app.dynamics import exports
from kvae_studio.app.dynamics.alpha_map import AlphaMapView
from kvae_studio.app.dynamics.dynamics_panel import DynamicsPanel
from kvae_studio.app.dynamics.error_view import ErrorOverTimeView
from kvae_studio.app.dynamics.imagination_view import GAP, ImaginationView, tile_frames
from kvae_studio.app.dynamics.regime_map import RegimeMapView
from kvae_studio.app.dynamics.regimes_view import RegimesView, eigen_tip, hinton_sizes
from kvae_studio.services.dynamics import (
    ERROR_KINDS,
    AlphaMap,
    ErrorOverTime,
    Imagination,
    RegimeChunk,
    RegimeFlow,
    RegimeMatrices,
)

K, T, SEQ_PER_CHUNK = 3, 5, 2
OFFSET = 0.3  # off the integer grid lines


# -- synthetic results ---------------------------------------------------------------------------


def lattice_chunk(first: int, n: int = SEQ_PER_CHUNK, total: int = 3 * SEQ_PER_CHUNK, seed=0):
    """Sequence s, frame t at (t + 0.3, s + 0.3); random weights on the simplex."""
    rng = np.random.default_rng(seed + first)
    t, s = np.meshgrid(np.arange(T), np.arange(first, first + n))
    codes = np.stack([t + OFFSET, s + OFFSET], axis=-1).astype(np.float32)
    alpha = rng.dirichlet(np.ones(K), size=(n, T)).astype(np.float32)
    return RegimeChunk(first, total, codes, alpha)


def three_chunks() -> list[RegimeChunk]:
    return [lattice_chunk(f) for f in range(0, 3 * SEQ_PER_CHUNK, SEQ_PER_CHUNK)]


def expected_rgb(alpha: np.ndarray) -> np.ndarray:
    """alpha @ the regime colours, in 0..255, computed here from the palette."""
    palette = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colors.REGIMES[:K]])
    return alpha @ palette


def matrices(seed: int = 0, dz: int = 3, da: int = 2) -> RegimeMatrices:
    rng = np.random.default_rng(seed)
    A = rng.normal(0, 0.5, (K, dz, dz)).astype(np.float32)
    C = rng.normal(0, 1.0, (K, da, dz)).astype(np.float32)
    return RegimeMatrices(A, C, np.linalg.eigvals(A.astype(np.float64)))


def alpha_map(step=None, ny=6, nx=8) -> AlphaMap:
    rng = np.random.default_rng(3)
    xs, ys = np.linspace(-1.0, 1.0, nx), np.linspace(-0.5, 0.5, ny)
    alpha = rng.dirichlet(np.ones(K), size=(ny, nx)).transpose(2, 0, 1).astype(np.float32)
    return AlphaMap(xs, ys, alpha, None if step is None else 2, step)


def error_result(mask="planning", value=12.0, t=20) -> ErrorOverTime:
    rng = np.random.default_rng(5)
    steps = np.arange(t)
    med, lo, up = {}, {}, {}
    for kind in ERROR_KINDS:
        m = rng.uniform(0.01, 0.03, t)
        if kind != "baseline":
            m[:4] = np.nan  # no sequence hid these steps
        med[kind], lo[kind], up[kind] = m, m - 0.005, m + 0.007
    return ErrorOverTime(mask, value, steps, med, lo, up)


def imagination(n=4, steps=6, h=5, w=7) -> Imagination:
    rng = np.random.default_rng(7)
    mean = rng.normal(size=(n, steps, 2)).astype(np.float32)
    sampled = rng.normal(size=(n, steps, 2)).astype(np.float32)
    truth = rng.normal(size=(n, 10, 2)).astype(np.float32)
    return Imagination(
        np.arange(n) * 3,
        4,
        mean,
        rng.random((n, steps, h, w)).astype(np.float32),
        sampled,
        rng.random((n, steps, h, w)).astype(np.float32),
        truth,
    )


# -- helpers ------------------------------------------------------------------------------------


def shown(qtbot, widget, size=(600, 500)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def viewport_point(plot_widget, x: float, y: float) -> QPoint:
    """Where data point (x, y) of a PlotWidget lands in its viewport's pixels."""
    scene = plot_widget.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))
    return plot_widget.mapFromScene(scene)


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def exported_rows(view, folder, name: str) -> list[dict[str, str]]:
    """The view's CSV export to `folder / name`, read back."""
    view.export_csv(folder / name)
    return read_csv(folder / name)


def only_file(folder, name: str) -> None:
    """The export left its file and no temporary one."""
    assert sorted(p.name for p in folder.iterdir()) == [name]


# -- regime map ---------------------------------------------------------------------------------


def test_regime_map_shows_every_point_of_three_chunks_in_its_mixed_colour(qtbot):
    view = shown(qtbot, RegimeMapView())
    chunks = three_chunks()
    for chunk in chunks:
        view.add_chunk(chunk)
    assert view.point_count() == 3 * SEQ_PER_CHUNK * T
    alpha = np.concatenate([c.alpha for c in chunks]).reshape(-1, K)
    argb = view.cloud.argb
    drawn = np.stack([(argb >> 16) & 255, (argb >> 8) & 255, argb & 255], axis=1)
    assert np.abs(drawn - expected_rgb(alpha)).max() <= 0.5 + 1e-6  # rounded to 8 bits
    # and on screen: the pixel at sequence 3, frame 2 has that point's colour
    plot = view.plot
    s, t = 3, 2
    pixel = viewport_point(plot, t + OFFSET, s + OFFSET)
    image = plot.viewport().grab().toImage()
    colour = QColor(image.pixel(pixel))
    want = expected_rgb(chunks[1].alpha[s - 2, t])
    got = np.array([colour.red(), colour.green(), colour.blue()])
    assert np.abs(got - want).max() <= 2
    assert "6 sequences, 30 codes" in view.status.text()


def test_hovering_a_point_names_its_sequence_frame_and_weights(qtbot):
    view = shown(qtbot, RegimeMapView())
    chunks = three_chunks()
    for chunk in chunks:
        view.add_chunk(chunk)
    viewport = view.plot.viewport()
    QTest.mouseMove(viewport, viewport_point(view.plot, 4 + OFFSET, 1 + OFFSET))
    qtbot.waitUntil(lambda: view.hover_text().startswith("sequence 1, frame 4"))
    weights = chunks[0].alpha[1, 4]
    assert f"α = ({', '.join(f'{w:.2f}' for w in weights)})" in view.hover_text()
    assert view.plot.label.isVisible()
    assert "sequence 1, frame 4" in view.status.text()
    # away from every point: nothing is hovered
    QTest.mouseMove(viewport, viewport_point(view.plot, 2.8, 1.8))
    qtbot.waitUntil(lambda: view.hover_text() == "")
    assert not view.plot.label.isVisible()


def test_clicking_a_point_asks_to_open_it_and_a_drag_does_not(qtbot):
    view = shown(qtbot, RegimeMapView())
    for chunk in three_chunks():
        view.add_chunk(chunk)
    viewport = view.plot.viewport()
    where = viewport_point(view.plot, 3 + OFFSET, 5 + OFFSET)
    with qtbot.waitSignal(view.pointClicked, timeout=2000) as clicked:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    assert clicked.args == [5, 3]
    # a drag that starts and ends on the point (a pan there and back) opens nothing
    left = Qt.MouseButton.LeftButton
    with qtbot.assertNotEmitted(view.pointClicked, wait=100):
        QTest.mousePress(viewport, left, Qt.KeyboardModifier.NoModifier, where)
        QTest.mouseMove(viewport, where + QPoint(30, 0))
        QTest.mouseMove(viewport, where)
        QTest.mouseRelease(viewport, left, Qt.KeyboardModifier.NoModifier, where)


def test_adding_ten_chunks_of_a_hundred_sequences_stays_fast(qtbot):
    view = shown(qtbot, RegimeMapView(), (900, 700))
    rng = np.random.default_rng(0)
    times = []
    for first in range(0, 1000, 100):
        codes = rng.uniform(-1, 1, (100, 20, 2)).astype(np.float32)
        alpha = rng.dirichlet(np.ones(5), size=(100, 20)).astype(np.float32)
        chunk = RegimeChunk(first, 1000, codes, alpha)
        start = time.perf_counter()
        view.add_chunk(chunk)
        view.plot.viewport().repaint()  # the paint of every point, now
        times.append(time.perf_counter() - start)
    assert view.point_count() == 20_000
    assert max(times) < 0.1, [round(1000 * t, 1) for t in times]


def test_flow_arrows_start_at_the_cells_and_point_along_the_flow(qtbot):
    view = shown(qtbot, RegimeMapView())
    for chunk in three_chunks():
        view.add_chunk(chunk)
    xs, ys = np.array([0.0, 2.0]), np.array([1.0, 3.0, 5.0])
    flow = np.full((K, 3, 2, 2), np.nan)
    flow[1, 0, 0] = (0.5, 0.0)
    flow[1, 2, 1] = (0.0, -0.25)
    view.set_flow(RegimeFlow(xs, ys, flow, np.array([[4, 0], [0, 0], [0, 9]])))
    assert view.flow_regime() == 0  # drawn: regime 0, which has no cell with data
    assert len(view.plot.flow.getData()[0]) == 0
    view.flow_choice.setCurrentIndex(2)  # regime 1
    x, y = view.plot.flow.getData()
    assert len(x) == 2 * 2 * 3  # two arrows: a shaft and two strokes each, as pairs
    shafts = np.stack([x, y], 1).reshape(2, 3, 2, 2)[:, 0]
    assert shafts[0, 0].tolist() == [0.0, 1.0] and shafts[1, 0].tolist() == [2.0, 5.0]
    moves = shafts[:, 1] - shafts[:, 0]
    assert np.allclose(moves / view.flow_scale, [[0.5, 0.0], [0.0, -0.25]])
    assert "flow of regime 1" in view.plot.getPlotItem().titleLabel.text
    view.flow_choice.setCurrentIndex(0)  # no flow
    assert len(view.plot.flow.getData()[0]) == 0


def test_imagined_paths_overlay_and_its_toggle(qtbot):
    view = shown(qtbot, RegimeMapView())
    codes = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32)
    view.set_paths(codes, "imagined")
    x, _ = view.plot.paths.getData()
    assert np.array_equal(x[:4], codes[0, :, 0]) and np.isnan(x[4])
    assert not view.plot.paths.isVisible()  # off until asked for
    qtbot.mouseClick(view.show_paths, Qt.MouseButton.LeftButton)
    assert view.plot.paths.isVisible()
    assert "imagined" in view.plot.getPlotItem().titleLabel.text


def test_regime_map_csv_parses_back_to_the_points(qtbot, tmp_path):
    view = shown(qtbot, RegimeMapView())
    chunks = three_chunks()
    for chunk in chunks:
        view.add_chunk(chunk)
    rows = exported_rows(view, tmp_path, "map.csv")
    only_file(tmp_path, "map.csv")
    assert list(rows[0]) == ["sequence", "frame", "a0", "a1", "alpha_0", "alpha_1", "alpha_2"]
    assert len(rows) == 30
    codes = np.concatenate([c.codes for c in chunks]).reshape(-1, 2)
    alpha = np.concatenate([c.alpha for c in chunks]).reshape(-1, K)
    got_codes = np.array([[float(r["a0"]), float(r["a1"])] for r in rows])
    got_alpha = np.array([[float(r[f"alpha_{k}"]) for k in range(K)] for r in rows])
    assert np.array_equal(got_codes, codes) and np.array_equal(got_alpha, alpha)
    assert [(int(r["sequence"]), int(r["frame"])) for r in rows[5:7]] == [(1, 0), (1, 1)]


def test_png_exports_write_the_picture_at_the_widgets_size(qtbot, tmp_path):
    view = shown(qtbot, RegimeMapView())
    for chunk in three_chunks():
        view.add_chunk(chunk)
    path = tmp_path / "map.png"
    view.export_png(path)
    image = QImage(str(path))
    ratio = view.plot.devicePixelRatioF()
    assert not image.isNull()
    assert (image.width(), image.height()) == (
        round(view.plot.width() * ratio),
        round(view.plot.height() * ratio),
    )
    only_file(tmp_path, "map.png")


def test_export_menu_asks_where_and_reports_a_failed_write(qtbot, tmp_path, monkeypatch):
    view = shown(qtbot, ErrorOverTimeView())
    view.set_error(error_result())
    target = tmp_path / "chosen.csv"
    monkeypatch.setattr(
        exports.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), exports.CSV_FILTER)
    )
    csv_action = next(a for a in view.export.menu().actions() if "CSV" in a.text())
    csv_action.trigger()
    assert len(read_csv(target)) == 4 * 20
    missing = tmp_path / "no such folder" / "x.csv"
    monkeypatch.setattr(
        exports.QFileDialog, "getSaveFileName", lambda *a, **k: (str(missing), exports.CSV_FILTER)
    )
    with qtbot.waitSignal(view.export.failed, timeout=2000) as failed:
        csv_action.trigger()
    assert "Could not save" in failed.args[0] and "x.csv" in failed.args[0]


# -- alpha map ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flip", [False, True])
def test_alpha_map_images_hold_the_weights_at_their_grid_points(qtbot, flip):
    view = shown(qtbot, AlphaMapView())
    m = alpha_map()
    if flip:  # a grid given from the top down is drawn the same way up
        m = AlphaMap(m.xs, m.ys[::-1], m.alpha[:, ::-1, :])
    view.set_alpha_map(m)
    assert len(view.images) == K
    want = alpha_map()
    for k in range(K):
        assert np.array_equal(view.image(k), want.alpha[k])
        for i, j in ((0, 0), (5, 7), (2, 3)):  # pixel (row i, col j) sits at (xs[j], ys[i])
            centre = view.images[k].mapToParent(QPointF(j + 0.5, i + 0.5))
            assert centre.x() == pytest.approx(want.xs[j])
            assert centre.y() == pytest.approx(want.ys[i])
    assert "same for every sequence" in view.caption.text()


def test_alpha_map_step_slider_only_for_a_recurrent_network_and_keys_ask(qtbot):
    view = shown(qtbot, AlphaMapView())
    view.set_alpha_map(alpha_map())
    assert not view.slider.isVisible()
    view.set_recurrent(True)
    view.set_step_range(0, 19)
    view.set_alpha_map(alpha_map(step=4))
    assert view.slider.isVisible() and view.slider.value() == 4
    assert "sequence 2, step 4" in view.caption.text()
    view.slider.setFocus()
    with qtbot.waitSignal(view.stepRequested, timeout=2000) as asked:
        QTest.keyClick(view.slider, Qt.Key.Key_Right)
    assert asked.args == [5]
    with qtbot.waitSignal(view.stepRequested, timeout=2000) as asked:
        QTest.keyClick(view.slider, Qt.Key.Key_End)
    assert asked.args == [19]


def test_alpha_map_csv_parses_back(qtbot, tmp_path):
    view = shown(qtbot, AlphaMapView())
    m = alpha_map()
    view.set_alpha_map(m)
    rows = exported_rows(view, tmp_path, "alpha.csv")
    assert len(rows) == 6 * 8
    row = rows[2 * 8 + 5]  # y index 2, x index 5
    assert float(row["x"]) == m.xs[5] and float(row["y"]) == m.ys[2]
    assert [float(row[f"alpha_{k}"]) for k in range(K)] == m.alpha[:, 2, 5].tolist()


# -- regimes ------------------------------------------------------------------------------------


def test_regimes_hinton_squares_numbers_and_eigenvalues(qtbot, tmp_path):
    view = shown(qtbot, RegimesView(), (900, 600))
    m = matrices()
    view.set_matrices(m)
    item = view.hinton_items[("A", 1)]
    largest = float(np.abs(m.A).max())
    sizes = item.data["size"]
    assert np.allclose(sizes, hinton_sizes(m.A[1].ravel(), largest))
    brushes = [QColor(b.color()).name() for b in item.data["brush"]]
    signs = m.A[1].ravel() >= 0
    assert brushes == [colors.ENCODER if s else colors.ERROR for s in signs]
    # the biggest entry of all the A's fills most of its cell
    assert sizes.max() <= 0.921
    # the numbers: A1 row 2 col 0, three decimals
    row = 1 * 3 + 2
    assert view.table_text(row, 0) == f"{m.A[1, 2, 0]:.3f}"
    assert view.table.rowCount() == K * 3 + K * 2
    x, y = view.eigen_points.getData()
    assert np.allclose(np.sort_complex(x + 1j * y), np.sort_complex(m.eigenvalues.ravel()))
    tip = eigen_tip(0.0, 0.5, (2, 0))
    assert "regime 2" in tip and "|λ| = 0.5000" in tip and "arg λ = 90.00°" in tip
    # both tables parse back
    rows = exported_rows(view, tmp_path, "m.csv")
    a = [r for r in rows if r["regime"] == "2" and r["matrix"] == "A"]
    values = np.array([float(r["value"]) for r in a]).reshape(3, 3)
    assert np.array_equal(values, m.A[2])
    c = [r for r in rows if r["regime"] == "0" and r["matrix"] == "C"]
    assert np.array_equal(np.array([float(r["value"]) for r in c]).reshape(2, 3), m.C[0])
    view.export_eigenvalues_csv(tmp_path / "e.csv")
    rows = read_csv(tmp_path / "e.csv")
    got = np.array([complex(float(r["real"]), float(r["imag"])) for r in rows]).reshape(K, 3)
    assert np.array_equal(got, m.eigenvalues)
    assert float(rows[0]["modulus"]) == pytest.approx(abs(m.eigenvalues[0, 0]))


# -- imagination --------------------------------------------------------------------------------


def test_imagination_grid_is_the_frames_tiled_and_toggles_to_the_sample(qtbot, tmp_path):
    view = shown(qtbot, ImaginationView(), (900, 500))
    im = imagination()
    view.set_imagination(im)
    n, steps, h, w = im.mean_frames.shape
    picture = view.grid_image.image
    assert picture.shape == (n * (h + GAP) - GAP, steps * (w + GAP) - GAP)
    for i, t in ((0, 0), (3, 5), (2, 1)):  # each tile holds that sequence's frame at that step
        r, c = i * (h + GAP), t * (w + GAP)
        assert np.array_equal(picture[r : r + h, c : c + w], im.mean_frames[i, t])
    qtbot.mouseClick(view.sampled, Qt.MouseButton.LeftButton)
    assert np.array_equal(view.grid_image.image, tile_frames(im.sampled_frames))
    view.export_grid_png(tmp_path / "grid.png")
    image = QImage(str(tmp_path / "grid.png"))
    assert (image.height(), image.width()) == picture.shape
    r, c = 3 * (h + GAP) + 2, 5 * (w + GAP) + 4
    assert QColor(image.pixel(c, r)).red() == round(255 * im.sampled_frames[3, 5, 2, 4])


def test_imagination_click_on_a_row_draws_that_sequence_bold(qtbot):
    view = shown(qtbot, ImaginationView(), (900, 500))
    im = imagination()
    view.set_imagination(im)
    qtbot.waitUntil(lambda: view.grid.getPlotItem().getViewBox().width() > 10)
    h, w = im.mean_frames.shape[2:]
    where = viewport_point(view.grid, 1.5 * (w + GAP), 2 * (h + GAP) + h / 2)
    with qtbot.waitSignal(view.sequenceSelected, timeout=2000) as chosen:
        QTest.mouseClick(
            view.grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where
        )
    assert chosen.args == [2]
    bold_x, _ = view.curves["mean"][1].getData()
    assert np.array_equal(bold_x[:-1], im.mean_codes[2, :, 0])
    assert view.choice.currentIndex() == 2


def test_imagination_csv_parses_back(qtbot, tmp_path):
    view = shown(qtbot, ImaginationView())
    im = imagination()
    view.set_imagination(im)
    rows = exported_rows(view, tmp_path, "paths.csv")
    assert list(rows[0]) == ["sequence", "step", "a0", "a1", "kind"]
    sampled = [r for r in rows if r["kind"] == "sampled" and r["sequence"] == "6"]
    got = np.array([[float(r["a0"]), float(r["a1"])] for r in sampled])
    assert np.array_equal(got, im.sampled_codes[2])
    assert len([r for r in rows if r["kind"] == "truth"]) == 4 * 10


# -- error over time ----------------------------------------------------------------------------


def test_error_bands_are_the_quartiles_and_the_lines_the_medians(qtbot):
    view = shown(qtbot, ErrorOverTimeView())
    e = error_result()
    view.set_error(e)
    for kind in ERROR_KINDS:
        lower, upper = view.band(kind)
        assert np.array_equal(lower, e.lower_quartile[kind], equal_nan=True)
        assert np.array_equal(upper, e.upper_quartile[kind], equal_nan=True)
        assert np.array_equal(view.medians[kind].getData()[1], e.median[kind], equal_nan=True)
        assert not view.bands[kind].path().isEmpty()
        pen = view.medians[kind].opts["pen"].color().name()
        assert (
            pen
            == colors.SERIES[
                {
                    "generated": "generation",
                    "filtered": "filtering",
                    "smoothed": "smoothing",
                    "baseline": "baseline",
                }[kind]
            ]
        )
    assert view.plot.getViewBox().viewRange()[1][0] == 0.0  # from no error up


def test_error_mask_controls_ask_for_a_mask_by_keys(qtbot):
    view = shown(qtbot, ErrorOverTimeView())
    view.set_error(error_result())
    view.mask.setFocus()
    with qtbot.waitSignal(view.maskRequested, timeout=2000) as asked:
        QTest.keyClick(view.mask, Qt.Key.Key_Down)
    assert asked.args == ["random", 0.5]
    with qtbot.waitSignal(view.maskRequested, timeout=2000) as asked:
        QTest.keyClick(view.value, Qt.Key.Key_Up)
    assert asked.args == ["random", pytest.approx(0.55)]
    assert view.value.maximum() == 1.0


def test_error_csv_parses_back(qtbot, tmp_path):
    view = shown(qtbot, ErrorOverTimeView())
    e = error_result("random", 0.3)
    view.set_error(e)
    rows = exported_rows(view, tmp_path, "err.csv")
    assert list(rows[0]) == [
        "mask",
        "value",
        "step",
        "kind",
        "median",
        "lower_quartile",
        "upper_quartile",
    ]
    smoothed = [r for r in rows if r["kind"] == "smoothed"]
    assert {r["mask"] for r in rows} == {"random"} and float(rows[0]["value"]) == 0.3
    for column, source in (("median", e.median), ("upper_quartile", e.upper_quartile)):
        got = np.array([float(r[column]) for r in smoothed])
        assert np.array_equal(got, source["smoothed"], equal_nan=True)
    assert [int(r["step"]) for r in smoothed] == list(range(20))


# -- the panel ----------------------------------------------------------------------------------


def fill(panel: DynamicsPanel, chunks=None) -> None:
    panel.set_source("box K=3", "box test set")
    for chunk in chunks or three_chunks():
        panel.add_regime_chunk(chunk)
    panel.set_matrices(matrices())
    panel.set_alpha_map(alpha_map())
    panel.set_imagination(imagination())
    panel.set_error(error_result())


@pytest.mark.parametrize("size", [(1024, 700), (1600, 1000)])
def test_panel_fits_and_gives_its_plots_room(qtbot, size):
    panel = shown(qtbot, DynamicsPanel(), size)
    fill(panel)
    hint = panel.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    assert panel.regime_map.plot.width() >= 0.45 * size[0]
    assert panel.regime_map.plot.height() >= 0.6 * size[1]
    assert panel.alpha_map.layout_widget.width() >= 0.25 * size[0]
    for index in range(1, 4):
        panel.tabs.setCurrentIndex(index)
        page = panel.tabs.currentWidget()
        qtbot.waitUntil(page.isVisible)
        assert page.height() >= 0.75 * size[1]


def test_panel_header_progress_and_forwarded_requests(qtbot):
    panel = shown(qtbot, DynamicsPanel(), (1024, 700))
    with qtbot.waitSignal(panel.refreshRequested, timeout=2000):
        qtbot.mouseClick(panel.compute, Qt.MouseButton.LeftButton)
    chunks = three_chunks()
    panel.add_regime_chunk(chunks[0])
    assert panel.progress_text.text() == "Regime map: 2 of 6 sequences"
    assert panel.progress.isVisible()
    fill(panel, chunks[1:])
    assert panel.progress_text.text() == "Regime map: 6 of 6 sequences"
    assert not panel.progress.isVisible()
    assert panel.compute.text() == "Refresh"
    assert "box K=3" in panel.source.full_text()
    assert panel.imagination.points.cloud is panel.regime_map.cloud  # the faint copy
    plot = panel.regime_map.plot
    where = viewport_point(plot, 1 + OFFSET, 4 + OFFSET)
    with qtbot.waitSignal(panel.openInExplore, timeout=2000) as opened:
        QTest.mouseClick(
            plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where
        )
    assert opened.args == [4, 1]
    panel.set_recurrent(True)
    panel.set_step_range(0, 9)
    with qtbot.waitSignal(panel.stepRequested, timeout=2000) as step:
        QTest.keyClick(panel.alpha_map.slider, Qt.Key.Key_Right)
    assert step.args == [1]
    panel.tabs.setCurrentWidget(panel.error)
    with qtbot.waitSignal(panel.maskRequested, timeout=2000) as mask:
        QTest.keyClick(panel.error.value, Qt.Key.Key_Down)
    assert mask.args == ["planning", 11.0]
    panel.set_message("The model process stopped")
    assert panel.message.isVisible()
    panel.clear()
    assert panel.regime_map.point_count() == 0 and not panel.message.isVisible()
    assert panel.progress_text.text() == "" and panel.compute.text() == "Compute"
    assert panel.regimes.data is None and panel.error.data is None
