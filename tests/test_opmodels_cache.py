"""The .tflite cache of tests/opmodels.py is keyed on everything the converted bytes depend on."""

from __future__ import annotations

import importlib.metadata

import pytest

from tests import opmodels


def _build_a():  # noqa: ANN202 - never called: only its source matters to the key
    return "Dense(3)"


def _build_b():  # noqa: ANN202
    return "Dense(4)"


SPEC = {"op": "dense", "n": 3, "seed": 1}


def test_same_inputs_same_key() -> None:
    assert opmodels.cache_key(SPEC, _build_a) == opmodels.cache_key(dict(SPEC), _build_a)


def test_spec_and_builder_change_the_key() -> None:
    key = opmodels.cache_key(SPEC, _build_a)
    assert opmodels.cache_key({**SPEC, "seed": 2}, _build_a) != key
    assert opmodels.cache_key(SPEC, _build_b) != key  # same spec, another model builder


def test_converter_source_changes_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyml_disco.training import train

    key = opmodels.cache_key(SPEC, _build_a)

    def convert_int8(model, representative):  # noqa: ANN001, ANN202 - an edited converter
        return b""

    monkeypatch.setattr(train, "convert_int8", convert_int8)
    assert opmodels.cache_key(SPEC, _build_a) != key


@pytest.mark.parametrize("dist", ["tensorflow", "keras", "numpy"])
def test_library_versions_change_the_key(monkeypatch: pytest.MonkeyPatch, dist: str) -> None:
    key = opmodels.cache_key(SPEC, _build_a)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda d: "99.0" if d == dist else real(d))
    assert opmodels.cache_key(SPEC, _build_a) != key
