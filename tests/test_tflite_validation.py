"""Damaged .tflite files: a clean ModelFormatError / UnsupportedModelError naming the file and the place, or a
correct compile; never a struct.error/IndexError traceback, and nothing written before the model validated."""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import tflite

from tinyml_disco import compiler
from tinyml_disco.app import pipeline
from tinyml_disco.compiler import tflite_reader
from tinyml_disco.compiler.fileio import sha256_bytes
from tinyml_disco.compiler.tflite_verify import ModelFormatError
from tinyml_disco.training.artifacts import ModelPaths, load_card

MUTANTS = 300
SEED = 20261126


def _field_pos(table, slot_offset: int) -> int:
    """Absolute position of a table field (flatbuffers vtable offset, e.g. 4 for the first field)."""
    off = table._tab.Offset(slot_offset)
    assert off, "field absent"
    return table._tab.Pos + off


def _metadata_buffer(buf: bytes) -> tuple[int, int]:
    """(index, position of its data offset) of a metadata buffer: no tensor uses it, so only a check of every
    buffer (or TFLite Micro, which reads them all) notices when it points outside the file."""
    model = tflite.Model.GetRootAsModel(buf, 0)
    assert model.MetadataLength(), "the converter writes metadata buffers"
    i = model.Metadata(model.MetadataLength() - 1).Buffer()
    return i, _field_pos(model.Buffers(i), 4)  # Buffer.data


def _copy_model(src: ModelPaths, dest: Path, tfl: bytes) -> ModelPaths:
    """A copy of a trained model folder whose model.tflite is `tfl` (model.json re-tied to it, so the pair
    check passes and the validator is what must catch the damage)."""
    shutil.copytree(src.root, dest / src.name)
    paths = ModelPaths(dest / src.name)
    paths.tflite.write_bytes(tfl)
    meta = json.loads(paths.meta_json.read_text())
    meta["tflite_sha256"] = sha256_bytes(tfl)
    paths.meta_json.write_text(json.dumps(meta))
    return paths


def test_flipped_byte_in_a_buffer_offset_is_a_clean_error(trained_mlp: ModelPaths) -> None:
    """The issue's case: one byte of a buffer's data offset flipped -> 134 MB past the end of the file."""
    buf = bytearray(trained_mlp.tflite.read_bytes())
    index, pos = _metadata_buffer(bytes(buf))
    buf[pos + 3] ^= 0x08
    with pytest.raises(ModelFormatError) as err:
        tflite_reader.parse(bytes(buf), "bad.tflite")
    msg = str(err.value)
    assert msg.startswith("bad.tflite: damaged .tflite: ") and f"buffers[{index}].data" in msg
    assert "tinyml-disco train" in msg and "\n" not in msg


def test_build_on_a_damaged_model_writes_nothing(trained_mlp: ModelPaths, tmp_path: Path, capsys) -> None:
    """Was: model.c/model.h written, then `struct.error ... 134218180 bytes` from TFLM's arena measurement."""
    from tinyml_disco.app.cli import main

    buf = bytearray(trained_mlp.tflite.read_bytes())
    _, pos = _metadata_buffer(bytes(buf))
    buf[pos + 3] ^= 0x08
    paths = _copy_model(trained_mlp, tmp_path, bytes(buf))
    (paths.root / "model.c").write_text("/* old */")
    (paths.root / "model.h").write_text("/* old */")
    before = {p.name: p.read_bytes() for p in (paths.model_c, paths.root / "model.h")}
    rc = main(["build", "--model", "mlp", "--build-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "damaged .tflite" in err and str(paths.tflite) in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in (paths.model_c, paths.root / "model.h")} == before


def test_weights_without_constant_data_say_so(trained_mlp: ModelPaths) -> None:
    """Was `weights tensor 4 must be constant int8, is int8`: the weights point to the empty buffer 0."""
    buf = bytearray(trained_mlp.tflite.read_bytes())
    g = tflite_reader.parse(bytes(buf))
    fc = next(op for op in g.operators if op.op == "FULLY_CONNECTED")
    w_index = fc.inputs[1]
    t = tflite.Model.GetRootAsModel(bytes(buf), 0).Subgraphs(0).Tensors(w_index)
    pos = _field_pos(t, 8)  # Tensor.buffer
    buf[pos:pos + 4] = (0).to_bytes(4, "little")
    g = tflite_reader.parse(bytes(buf), "w.tflite")
    with pytest.raises(compiler.UnsupportedModelError) as err:
        compiler.compile_model(g, pipeline.compile_meta(load_card(trained_mlp), g))
    msg = str(err.value)
    assert f"tensor {w_index} " in msg and "no constant data" in msg and "is int8" not in msg


def _mutate(buf: bytes, rng: random.Random) -> bytes:
    b = bytearray(buf)
    for _ in range(rng.choice((1, 1, 2, 4))):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def test_seeded_byte_mutations_give_clean_errors_or_correct_code(trained_mlp: ModelPaths, trained_cnn: ModelPaths,
                                                                  tmp_path: Path) -> None:
    """300 seeded mutants of the built-in models' .tflite files (one to four random bytes each): every one is a
    ModelFormatError / UnsupportedModelError or compiles; compiled mutants of the MLP run bit-exact with TFLM."""
    from tinyml_disco.app.hostlib import build_host_model
    from tinyml_disco.app.tflm_oracle import TflmOracle

    rng = random.Random(SEED)
    counts = {"format error": 0, "unsupported": 0, "compiled": 0}
    compiled_mlp: list[bytes] = []
    t0 = time.monotonic()
    for i in range(MUTANTS):
        paths = (trained_mlp, trained_cnn)[i % 2]
        original = paths.tflite.read_bytes()
        card = load_card(paths)
        mutant = _mutate(original, rng)
        try:
            g = tflite_reader.parse(mutant, f"mutant{i}.tflite")
            compiler.compile_model(g, pipeline.compile_meta(card, g))
        except ModelFormatError as exc:
            assert str(exc).startswith(f"mutant{i}.tflite: "), exc
            counts["format error"] += 1
        except compiler.UnsupportedModelError:
            counts["unsupported"] += 1
        else:
            counts["compiled"] += 1
            if paths is trained_mlp and mutant != original:
                compiled_mlp.append(mutant)
    assert all(counts.values()), counts  # the mutator reaches all three outcomes
    # "Correct": two compiled MLP mutants against TFLite Micro on random inputs, byte for byte.
    x = np.random.default_rng(0).integers(-128, 128, size=(64, 6), dtype=np.int8)
    for k, mutant in enumerate(compiled_mlp[:2]):
        g = tflite_reader.parse(mutant)
        out_dir = tmp_path / f"m{k}"
        compiler.write(compiler.compile_model(g, pipeline.compile_meta(load_card(trained_mlp), g)), out_dir)
        host = build_host_model(out_dir, out_dir, 6, 4)
        np.testing.assert_array_equal(host.invoke(x), TflmOracle(mutant).invoke(x))
    assert time.monotonic() - t0 < 30  # the bound the suite budgets (~5 s measured)
