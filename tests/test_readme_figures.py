"""The README's measured-figures table is generated from bench.json (issue 10: documentation drift)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyml_disco.app import cli, readme_figures

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "readme_figures").glob("*.json"))


def _region(text: str) -> str:
    return text.split(readme_figures.BEGIN, 1)[1].split(readme_figures.END, 1)[0].strip()


def test_readme_table_is_what_the_generator_makes_from_the_bench_fixtures() -> None:
    """The fixtures are the bench.json files the README's figures come from (copy new ones there after a bench,
    then `tinyml-disco readme-figures --bench tests/fixtures/readme_figures/*.json`)."""
    assert len(FIXTURES) == 4
    table = readme_figures.render([readme_figures.load_bench(p) for p in FIXTURES])
    assert _region((ROOT / "README.md").read_text(encoding="utf-8")) == table


def test_rows_carry_the_bench_numbers() -> None:
    b = readme_figures.load_bench(ROOT / "tests" / "fixtures" / "readme_figures" / "cnn.json")
    assert readme_figures.row(b) == ("| cnn | 97.6% | 95.7% (1,500) | 96% | 54,127 (54,151) | 10,024 B | 4,696 B | "
                                     "100% (10,100 host, 200 device) |")
    b = dict(b, flash_bytes=20_000, bitexact_rate_device=0.995)
    assert "| 20,000 B |" in readme_figures.row(b) and "| 99.5% (10,100 host" in readme_figures.row(b)


def test_rewrite_check_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{readme_figures.BEGIN}\n| stale |\n{readme_figures.END}\noutro\n")
    bench = [str(p) for p in FIXTURES]
    assert cli.main(["readme-figures", "--readme", str(readme), "--check", "--bench", *bench]) == 1
    assert cli.main(["readme-figures", "--readme", str(readme), "--bench", *bench]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "| stale |" not in text
    assert cli.main(["readme-figures", "--readme", str(readme), "--check", "--bench", *bench]) == 0
    capsys.readouterr()
    broken = tmp_path / "mlp.json"
    broken.write_text(json.dumps({"model": "mlp"}))
    assert cli.main(["readme-figures", "--readme", str(readme), "--bench", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(broken) in err and "rerun `tinyml-disco bench`" in err
    readme.write_text("no markers here\n")
    assert cli.main(["readme-figures", "--readme", str(readme), "--bench", *bench]) == 2
    assert "markers" in capsys.readouterr().err
