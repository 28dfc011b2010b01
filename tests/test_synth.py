"""Generator v2: determinism, settings from files and overrides, sensor model (LSB, clipping, noise), classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.training import synth


def test_same_seed_same_windows_other_seed_other_windows() -> None:
    cfg = synth.load_config(overrides=["unknown.enabled=true"])
    a, b, c = synth.generate(8, 11, cfg), synth.generate(8, 11, cfg), synth.generate(8, 12, cfg)
    assert np.array_equal(a.raw, b.raw) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.raw, c.raw)


def test_unknown_class_is_optional_and_balanced() -> None:
    assert "unknown" not in synth.generate(2, 1).label_names
    w = synth.generate(20, 1, synth.load_config(overrides=["unknown.enabled=true"]))
    assert w.label_names == (*synth.LABELS, "unknown")
    assert np.bincount(w.labels).tolist() == [20] * 5


@pytest.mark.parametrize("kind", ["random_motion", "slow_tilt", "bump"])
def test_each_unknown_kind_differs_from_idle(kind: str) -> None:
    cfg = synth.load_config(overrides=["unknown.enabled=true", f"unknown.kinds={kind}", "orientation.random=false",
                                       "orientation.drift_deg_per_s=0"])
    w = synth.generate(10, 2, cfg)
    g = w.g
    spread = g.std(axis=1).sum(axis=1)  # total per-window motion
    idle = spread[w.labels == 0]
    unknown = spread[w.labels == w.label_names.index("unknown")]
    assert np.median(unknown) > 3 * np.median(idle)


def test_overrides_from_strings_json_and_toml(tmp_path: Path) -> None:
    cfg = synth.load_config(overrides=["sensor.full_scale_g=4", "gestures.shake.freq_hz=[3, 8]", "people.count=3"])
    assert (cfg.sensor.full_scale_g, cfg.sensor.lsb_ug) == (4, 120)  # datasheet sensitivity follows the scale
    assert cfg.gestures.shake.freq_hz == (3.0, 8.0) and cfg.people.count == 3
    js = tmp_path / "g.json"
    js.write_text(json.dumps({"sensor": {"name": "LIS2DW12", "full_scale_g": 2}, "unknown": {"enabled": True}}))
    cfg = synth.load_config(js)
    assert (cfg.sensor.name, cfg.sensor.lsb_ug, cfg.class_labels[-1]) == ("LIS2DW12", 244, "unknown")
    toml = tmp_path / "g.toml"
    toml.write_text('window = 64\n[orientation]\nrandom = false\n[device]\noffset_sigma_g = 0.0\n')
    cfg = synth.load_config(toml, ["device.gain_sigma=0"])
    assert (cfg.window, cfg.orientation.random, cfg.device.offset_sigma_g, cfg.device.gain_sigma) == (64, False, 0, 0)
    assert synth.generate(1, 0, cfg).raw.shape[1] == 64
    # The settings recorded in model.json rebuild the same configuration.
    assert synth.config_from_dict(synth.config_to_dict(cfg)) == cfg


@pytest.mark.parametrize(("override", "message"), [
    (["sensor.full_scale_g=5"], "no +/-5 g range"),
    (["sensor.nmae=LIS3DSH"], "sensor.nmae"),
    (["gestures.shake.freq_hz=[7, 3]"], "low > high"),
    (["sample_rate_hz=99"], "no 99 Hz output data rate"),
    (["people.count=many"], "people.count: expected a number"),
    (["unknown.kinds=dance"], "no generator for dance"),
    (["window"], "not key=value"),
])
def test_bad_settings_are_named(override: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        synth.load_config(overrides=override)


def test_bad_config_file_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{"sensor": {"full_scale_g": 3}}')
    with pytest.raises(ValueError, match="bad.json"):
        synth.load_config(p)


def test_counts_are_rounded_and_clipped_at_full_scale() -> None:
    s2 = synth.sensor_preset("LIS3DSH", 2)
    assert s2.count_range == (-32768, 32767)  # 2 g / 60 ug > int16: the output word clips first
    lis2 = synth.sensor_preset("LIS2DW12", 8)
    assert lis2.count_range == (-8192, 8191)  # 14-bit output
    raw = synth.to_raw(np.array([[0.00012, -0.00018, 100.0], [-100.0, 0.0, 0.000031]]), s2)
    assert raw.tolist() == [[2, -3, 32767], [-32768, 0, 1]]
    # A +/-2 g sensor saturates on a vigorous shake that a +/-8 g one measures.
    cfg2 = synth.load_config(overrides=["sensor.full_scale_g=2", "gestures.shake.amp_g=[2.5, 3]"])
    w = synth.generate(5, 3, cfg2)
    shakes = w.raw[w.labels == 1]
    assert (shakes == 32767).any() or (shakes == -32768).any()


def test_noise_follows_the_datasheet_density() -> None:
    quiet = ["orientation.random=false", "orientation.tilt_sigma_deg=0", "orientation.drift_deg_per_s=0",
             "people.tremor_g=0", "device.offset_sigma_g=0", "device.gain_sigma=0", "sensor.full_scale_g=2"]
    for name, density in (("LIS3DSH", 150e-6), ("LIS2DW12", 90e-6)):
        cfg = synth.load_config(overrides=[*quiet, f"sensor.name={name}"])
        w = synth.generate(40, 4, cfg)
        idle = w.g[w.labels == 0]
        measured = float(idle[:, :, 0].std(axis=1).mean())
        expected = density * np.sqrt(cfg.sample_rate_hz / 2)
        lsb_noise = cfg.sensor.lsb_g / np.sqrt(12)  # rounding adds its own
        assert measured == pytest.approx(np.hypot(expected, lsb_noise), rel=0.15)
        assert np.abs(idle.mean(axis=1)[:, 2] - 1.0).max() < 0.01  # face up: +1 g on z


def test_random_orientation_spreads_gravity_over_all_axes() -> None:
    w = synth.generate(50, 5)
    g_mean = w.g[w.labels == 0].mean(axis=1)
    assert np.allclose(np.linalg.norm(g_mean, axis=1), 1.0, atol=0.12)
    assert (g_mean.min(axis=0) < -0.5).all() and (g_mean.max(axis=0) > 0.5).all()


def test_people_change_tempo() -> None:
    """Shake frequency scales with the person's speed: fast people make more zero crossings."""
    slow = synth.load_config(overrides=["people.speed_sigma=0", "people.repetition_sigma=0", "people.count=1",
                                        "gestures.shake.freq_hz=[4, 4]"])
    w = synth.generate(5, 6, slow)
    t = np.arange(w.raw.shape[1]) / w.sample_rate_hz
    motion = synth.gesture_motion("shake", t, np.random.default_rng(0), slow, synth.Person(speed=1.5, amplitude=1.0))
    main_axis = motion[:, np.argmax(np.abs(motion).max(axis=0))]
    crossings = np.count_nonzero(np.diff(np.sign(main_axis)) != 0)
    assert crossings == pytest.approx(2 * 4 * 1.5 * t[-1], abs=3)
