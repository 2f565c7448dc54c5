"""Rendering a programme: segments and pauses → one normalised MP3 in the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audio.errors import Silent, Unplayable
from audio.loudness import integrated_loudness
from audio.pipeline import ingest
from audio.render import RenderItem, crossfade, render_program
from audio.store import MediaStore
from config.settings import Settings
from tests import audio_fixtures as af

# No temporary file may be left behind, whatever happens (the ``temp_dir`` fixture checks).
pytestmark = [pytest.mark.usefixtures("temp_dir"), pytest.mark.slow]
SR = 44100


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Raw material: speech, a quiet tone and loud noise (very different levels)."""
    d = tmp_path_factory.mktemp("segments")
    return {
        "speech": af.speech(d / "speech.wav"),
        "quiet": af.tone(d / "quiet.wav", 2.0, freq=440, amplitude=0.02),  # ≈ −37 LUFS
        "loud": af.noise(d / "loud.wav", 2.0, amplitude=0.5, channels=1),
    }


def seconds(path: Path) -> float:
    return len(af.decode(path)) / SR


def test_a_programme_is_its_segments_and_pauses_in_order(
    segments: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    items = [RenderItem(segments["speech"], 1000), RenderItem(segments["quiet"])]
    result = render_program(items, settings, store)
    expected_ms = (seconds(segments["speech"]) + 1.0 + seconds(segments["quiet"])) * 1000
    assert result.duration_ms == pytest.approx(expected_ms, abs=30)
    y = af.decode(result.path)
    gap = y[
        int((seconds(segments["speech"]) + 0.1) * SR) : int(
            (seconds(segments["speech"]) + 0.9) * SR
        )
    ]
    assert np.sqrt(np.mean(gap**2)) < 1e-3  # the pause is silence
    assert result.path == store.path_for(result.sha256) and result.path.is_file()


def test_the_whole_programme_is_normalised_and_peak_limited(
    segments: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    items = [RenderItem(segments[name], 300) for name in ("quiet", "speech", "loud")]
    result = render_program(items, settings, store)
    a = result.analysis
    assert a["loudness_after_lufs"] == pytest.approx(settings.target_lufs, abs=1.0)
    assert a["true_peak_after_dbtp"] <= settings.true_peak_db + 0.2
    assert integrated_loudness(af.decode(result.path), SR) == pytest.approx(
        a["loudness_after_lufs"], abs=0.02
    )
    assert a["segments"] == 3 and a["sample_rate"] == SR and a["channels"] == 1


def test_ingested_segments_keep_their_level_in_the_programme(
    segments: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    one = ingest(segments["speech"], settings, store)
    two = ingest(segments["loud"], settings, store)
    items = [RenderItem(one.path, 500), RenderItem(two.path)]
    result = render_program(items, settings, store)
    # already at −16 each, so the programme needs next to no gain
    assert abs(result.analysis["gain_db"]) < 1.0
    assert result.analysis["loudness_after_lufs"] == pytest.approx(-16.0, abs=0.5)


def test_adjacent_segments_crossfade(
    segments: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    items = [RenderItem(segments["quiet"]), RenderItem(segments["loud"])]
    plain = render_program(items, settings, store)
    faded = render_program(items, settings, store, crossfade_ms=200)
    assert plain.duration_ms - faded.duration_ms == pytest.approx(200, abs=5)
    assert faded.sha256 != plain.sha256


def test_no_crossfade_across_a_pause(
    segments: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    items = [RenderItem(segments["quiet"], 500), RenderItem(segments["loud"])]
    result = render_program(items, settings, store, crossfade_ms=200)
    expected_ms = (seconds(segments["quiet"]) + 0.5 + seconds(segments["loud"])) * 1000
    assert result.duration_ms == pytest.approx(expected_ms, abs=30)


def test_crossfade_is_equal_power() -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal(SR).astype(np.float32) * 0.1
    b = rng.standard_normal(SR).astype(np.float32) * 0.1
    head, tail = crossfade(a, b, 4410)
    assert len(head) + len(tail) == 2 * SR - 4410
    overlap = tail[:4410]
    assert np.sqrt(np.mean(overlap**2)) == pytest.approx(0.1, rel=0.1)  # no dip mid-fade
    assert crossfade(a[:100], b, 4410)[0].size == 50  # never more than half a segment


def test_rendering_the_same_programme_twice_stores_one_file(
    segments: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    items = [RenderItem(segments["speech"]), RenderItem(None, 700)]
    first = render_program(items, settings, store)
    second = render_program(items, settings, store)
    assert first.sha256 == second.sha256
    assert [p for p in store.root.rglob("*") if p.is_file()] == [first.path]


def test_a_programme_of_silence_is_refused(store: MediaStore, settings: Settings) -> None:
    with pytest.raises(Silent):
        render_program([RenderItem(None, 2000)], settings, store)


def test_a_broken_segment_is_refused(tmp_path: Path, store: MediaStore, settings: Settings) -> None:
    with pytest.raises(Unplayable) as refused:
        render_program([RenderItem(af.random_bytes(tmp_path / "x.mp3"))], settings, store)
    assert refused.value.status == 422


def test_render_items_are_checked() -> None:
    with pytest.raises(ValueError):
        RenderItem(None)
    with pytest.raises(ValueError):
        RenderItem(Path("x.mp3"), -5)
    with pytest.raises(ValueError):
        render_program([], Settings(instance_path=Path("i")), MediaStore(Path("m")))
