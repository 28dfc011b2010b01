"""`tinyml-disco`: a thin command line over the library functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from tinyml_disco.app import console
from tinyml_disco.compiler.fileio import check_writable
from tinyml_disco.training.artifacts import DEFAULT_BUILD, ModelPaths
from tinyml_disco.training.models import MODELS


def _paths(args: argparse.Namespace) -> ModelPaths:
    return ModelPaths.for_model(args.model, Path(args.build_dir) if args.build_dir else None)


def _build_root(args: argparse.Namespace) -> Path:
    # absolute: make -C firmware would read a relative MODEL_DIR from firmware/
    return (Path(args.build_dir) if args.build_dir else DEFAULT_BUILD).resolve()


def output_dirs(args: argparse.Namespace) -> list[Path]:
    """The folders a command writes into, checked before any work starts."""
    if args.command == "record":
        return [Path(args.out)]
    if args.command in ("train", "build", "simulate", "bench", "profile"):
        return [_paths(args).root]
    if args.command == "demo":
        return [ModelPaths.for_model(n, _build_root(args)).root for n in ([args.model] if args.model else MODELS)]
    return []  # footprint, flash, monitor: read only


def _interrupted_where(args: argparse.Namespace) -> str:
    dirs = output_dirs(args)
    return f"; nothing partial was left in {', '.join(map(str, dirs))}" if dirs else ""


def count(lo: int, hi: int = 1_000_000) -> Callable[[str], int]:
    """argparse type: an integer in [lo, hi]; anything else is rc 2 with the option's name and the range."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer from {lo} to {hi}, got {text!r}")
        return value
    return parse


def seconds(text: str) -> float:
    """argparse type: a positive finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1e9:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def cmd_train(args: argparse.Namespace) -> int:
    from tinyml_disco.app import pipeline
    from tinyml_disco.training import synth

    overrides = [*args.synth, *(["unknown.enabled=true"] if args.unknown else [])]
    cfg = synth.load_config(args.synth_config, overrides)
    pipeline.train(_paths(args), seed=args.seed, per_class=args.per_class, epochs=args.epochs, synth_config=cfg,
                   data_dir=Path(args.data) if args.data else None, device_per_class=args.device_per_class,
                   units=args.units)
    pipeline.export_device_data(_paths(args))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from tinyml_disco.app import pipeline

    paths = _paths(args)
    if args.runtime == "compiled":  # one compile: build_firmware finds the C current (same .tflite, same choice)
        compiled = pipeline.compile_c(paths, weight_streams=args.weight_streams)
        if args.plan:
            print(compiled.plan_text)
        pipeline.build_firmware(paths, weight_streams=args.weight_streams)
        return 0
    if args.plan:
        print(pipeline.compile_c(paths, weight_streams=args.weight_streams).plan_text)
    pipeline.build_runtime(paths, args.runtime, weight_streams=args.weight_streams)
    return 0


def cmd_footprint(args: argparse.Namespace) -> int:
    from tinyml_disco.sim import footprint

    elf = Path(args.elf) if args.elf else _paths(args).elf
    fp = footprint.measure_footprint(elf)
    print(json.dumps(json.loads(fp.to_json()), indent=2) if args.json else fp.format_table())
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from tinyml_disco.app import pipeline, progress, replay
    from tinyml_disco.sim.session import embedded_session
    from tinyml_disco.training.artifacts import load_card

    paths = _paths(args)
    card = load_card(paths)
    if args.data:
        data = replay.load_replay(Path(args.data), card.sample_rate_hz, card.window, units=args.units)
        for note in data.notes:
            print(f"[simulate] {note}", file=sys.stderr)
        windows, truth = data.windows_g, data.truth
    else:
        w = pipeline.device_windows(paths, args.per_class)
        windows = w.g
        truth = [w.label_names[i] for i in w.labels]
    with console.results(args.json) as out:
        if args.runtime == "compiled":
            elf = pipeline.current_elf(paths)  # reused only if its build stamp ties it to this model.tflite
        else:
            elf = pipeline.build_runtime(paths, args.runtime)[1]
    session = embedded_session(elf, instruction_budget=replay.BOOT_BUDGET)
    boot = session.start()
    if not args.json:
        print(f"[simulate] {boot}", flush=True)
    preds = []
    right = 0
    try:
        with progress.bar(len(windows), "[simulate] windows on the emulated board", "window") as bar:
            for p in replay.stream_predictions(session, windows):
                tail = f" truth={truth[len(preds)]}" if truth else ""
                right += bool(truth) and p.label == truth[len(preds)]
                preds.append(p)
                if not args.json:  # streamed as they come; tqdm keeps the bar below them on a terminal
                    progress.write(f"PRED seq={p.seq} class={p.cls} label={p.label} score={p.score} "
                                   f"cycles={p.cycles}{tail}")
                bar.update(1)
    finally:
        done = len(preds)
        if truth and done and not args.json:
            part = "" if done == len(windows) else f" (stopped after {done} of {len(windows)} windows)"
            print(f"[simulate] accuracy {right / done:.3f} on {done} windows{part}", flush=True)
    if args.json:
        print(json.dumps({"boot": asdict(boot), "accuracy": right / len(preds) if truth and preds else None,
                          "windows": len(preds),
                          "predictions": [{**asdict(p), **({"truth": truth[i]} if truth else {})}
                                          for i, p in enumerate(preds)]}, indent=2), file=out)
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from tinyml_disco.app.profile import format_profile, profile_model

    paths = _paths(args)
    print(format_profile(profile_model(paths)))
    print(f"[profile] wrote {paths.root / 'profile.json'} and {paths.root / 'profile.png'}")
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from tinyml_disco.app.estimate import estimate_model, format_estimate

    paths = _paths(args)
    with console.results(args.json) as out:  # a rebuild's step lines go to stderr with --json
        e = estimate_model(paths, Path(args.elf) if args.elf else None)
    print(json.dumps(e, indent=2) if args.json else format_estimate(paths.name, e), file=out)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from tinyml_disco.app.bench import bench, format_summary

    with console.results(args.json) as out:
        r = bench(_paths(args), per_class=args.per_class, runtime=args.runtime, weight_streams=args.weight_streams)
    print(json.dumps(r, indent=2) if args.json else format_summary(r), file=out)
    return _checked([r])


def _checked(results: list[dict]) -> int:
    """bench/demo: exit code 1 when the firmware disagrees with TFLM (console.bench_checks)."""
    bad = console.bench_checks(results)
    if bad:
        raise console.CheckFailed("; ".join(bad))
    return console.OK


def cmd_report(args: argparse.Namespace) -> int:
    from tinyml_disco.app import report_html

    names = list(MODELS) if args.all else [args.model]
    build = Path(args.build_dir) if args.build_dir else None
    for name in names:
        report_html.write(ModelPaths.for_model(name, build), device_per_class=args.device_per_class)
    return 0


def cmd_flash(args: argparse.Namespace) -> int:
    from tinyml_disco.app.flash import flash_command, run_flash

    elf = Path(args.elf) if args.elf else _paths(args).elf
    if not args.elf and not args.dry_run and elf.is_file():
        from tinyml_disco.app import firmware_stamp
        from tinyml_disco.training.artifacts import load_card

        reason = firmware_stamp.stale_reason(elf, load_card(_paths(args)).tflite_sha256)
        if reason is not None:
            raise ValueError(f"{reason}; rebuild it first: tinyml-disco build --model {args.model}")
    cmd = flash_command(args.probe, elf, gdb=args.gdb)
    if args.dry_run:
        print(cmd.shell())
        return 0
    if not elf.is_file():
        raise FileNotFoundError(f"{elf} does not exist; build it first: tinyml-disco build --model {args.model}")
    print(f"[flash] {cmd.shell()}")
    run_flash(cmd, timeout_s=args.timeout)
    print(f"[flash] {elf} written, verified and started through {args.probe}")
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from tinyml_disco.app.monitor import monitor

    return monitor(args.port, baud=args.baud, duration_s=args.duration, max_lines=args.max_lines,
                   color=None if args.color == "auto" else args.color == "always")


def cmd_record(args: argparse.Namespace) -> int:
    from tinyml_disco.app.record import record

    out = record(args.port, label=args.label, out_dir=Path(args.out), seconds=args.seconds, samples=args.samples,
                 baud=args.baud)
    print(f"[record] wrote {out}")
    return 0


def _demo_one(paths: ModelPaths, args: argparse.Namespace) -> dict:
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.bench import bench, format_summary
    from tinyml_disco.training.artifacts import load_card

    try:
        stale = args.retrain or load_card(paths).name != paths.name
    except (FileNotFoundError, ValueError, KeyError, TypeError) as exc:
        print(f"[demo] training {paths.name}: {str(exc).splitlines()[0]}")
        stale = True  # no model yet, one from an older format, or a mixed model.json/model.tflite pair
    if stale:
        pipeline.train(paths, seed=args.seed, per_class=args.per_class_train, epochs=args.epochs,
                       device_per_class=args.per_class, log=console.detail)
        pipeline.export_device_data(paths)
    else:
        print(f"[demo] reusing trained model {paths.tflite} (pass --retrain to train again)")
    r = bench(paths, per_class=args.per_class, runtime=args.runtime, log=console.detail,
              weight_streams=args.weight_streams)
    print(format_summary(r))
    return r


def format_comparison(results: list[dict]) -> str:
    """One line per model: what a TinyML engineer compares first."""
    head = (f"{'model':<11} {'acc float':>9} {'int8 host':>9} {'device':>7} {'cycles':>8} {'flash B':>8} "
            f"{'RAM B':>6} {'bit-exact':>9} {'win/s':>6} {'TFLM/ours cyc':>13} {'flash':>6} {'RAM':>6}")
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(f"{r['model']:<11} {r['accuracy_float']:>9.3f} {r['accuracy_int8_host']:>9.3f} "
                    f"{r['accuracy_device']:>7.3f} {r['cycles_per_inference']:>8} {r['flash_bytes']:>8} "
                    f"{r['ram_bytes']:>6} {r['bitexact_rate'] * 100:>8.2f}% {r['emulator_windows_per_s']:>6.1f}"
                    + _ratio_cells(r.get("ratios") or {}))
    return "\n".join(rows)


def _ratio_cells(x: dict) -> str:
    if not x:
        return f" {'-':>13} {'-':>6} {'-':>6}"
    return (f" {'x' + format(x['cycles_per_inference'], '.2f'):>13} {'x' + format(x['flash_bytes'], '.2f'):>6} "
            f"{'x' + format(x['ram_used_bytes'], '.2f'):>6}")


def _data_title(name: str, data: dict) -> str:
    """What a model's held-out windows are, from model.json "data"."""
    if data.get("source", "synthetic") == "synthetic":
        return "held-out synthetic windows"
    return f"{name}: test windows of the recordings in {data.get('dir', '?')}"


def cmd_demo(args: argparse.Namespace) -> int:
    from tinyml_disco.training.artifacts import load_card

    names = [args.model] if args.model else list(MODELS)
    results = []
    sources = []
    for name in names:
        print(f"[demo] === {name}: {MODELS[name].description}")
        paths = ModelPaths.for_model(name, Path(args.build_dir) if args.build_dir else None)
        results.append(_demo_one(paths, args))
        sources.append(_data_title(name, load_card(paths).data))
    print(f"\n[demo] summary (accuracy on {'; '.join(dict.fromkeys(sources))}; cycles = retired instructions per "
          "inference on the emulated Cortex-M4; bench.json per model in build/<model>/)")
    print(format_comparison(results))
    from tinyml_disco.app.bench import runtimes_table

    print("\n[demo] runtimes side by side (bench.json \"runtimes\"; ratios TFLM / ours)")
    print(runtimes_table(results))
    return _checked(results)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyml-disco", description=__doc__, epilog=console.EXIT_CODES)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show TensorFlow/Keras/absl logs and warnings and every step line (hidden by default)")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn, help_: str, model_help: str = "built-in model (default mlp)") -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, epilog=console.EXIT_CODES)
        sp.add_argument("--model", default="mlp", choices=sorted(MODELS), help=model_help)
        sp.add_argument("--build-dir", default=None, help="artifact folder (default ./build)")
        sp.set_defaults(func=fn)
        return sp

    t = add("train", cmd_train, "generate data, train, quantize to int8, compile to C")
    t.add_argument("--seed", type=count(0, 2**31 - 1), default=1234)
    t.add_argument("--per-class", type=count(1), default=None,
                   help="training windows per gesture, 1..1000000 (default: the model's)")
    t.add_argument("--epochs", type=count(1, 100_000), default=None, help="1..100000 (default: the model's own)")
    t.add_argument("--data", help="folder of CSV recordings (timestamp_s,ax_g,ay_g,az_g,label) instead of "
                   "synthetic data; its train/ test/ [val/] folders if it has them, else split by file, every class "
                   "in every split")
    _units_arg(t)
    t.add_argument("--synth-config", help="generator settings file (.json or .toml); see training/synth.py")
    t.add_argument("--synth", action="append", default=[], metavar="KEY=VALUE",
                   help="override one generator setting, e.g. sensor.full_scale_g=4 (repeatable)")
    t.add_argument("--unknown", action="store_true", help="add the 'unknown' class of non-gestures")
    t.add_argument("--device-per-class", type=count(0, 100_000), default=25,
                   help="test windows per class run on the emulated board for the report (0: skip)")
    b = add("build", cmd_build, "compile model.tflite to C and cross-compile firmware.elf")
    b.add_argument("--plan", action="store_true", help="print the arena plan (offset, bytes, lifetime of each buffer)")
    _runtime_arg(b, "compiled: our model compiler -> build/<model>/firmware/; tflm: TFLite Micro + CMSIS-NN -> "
                 "build/<model>/tflm/firmware/; auto: compiled, or tflm when our compiler lacks an op")
    _weight_streams_arg(b)
    s = add("simulate", cmd_simulate, "run firmware.elf on the emulated board and print PRED lines")
    _runtime_arg(s, "which firmware runs")
    s.add_argument("--data", help="one CSV (timestamp_s,ax_g,ay_g,az_g[,label]) or RESD file to replay (a file, "
                   "not a folder)")
    s.add_argument("--per-class", type=count(1, 100_000), default=5,
                   help="synthetic windows per gesture when no --data")
    _units_arg(s)
    _json_arg(s)
    f = add("footprint", cmd_footprint, "flash and RAM use of firmware.elf")
    f.add_argument("--elf", help="any ARM ELF instead of the model's firmware")
    _json_arg(f)
    add("profile", cmd_profile, "instructions per kernel call in the emulator -> build/<model>/profile.json/.png")
    es = add("estimate", cmd_estimate, "estimated Cortex-M4 cycles of one inference on a real STM32F407 at 168 MHz "
             "(TRM timings + flash wait states with the ART accelerator; a model, not a measurement)")
    es.add_argument("--elf", help="any firmware with model_invoke instead of the model's firmware.elf")
    es.add_argument("--json", action="store_true")
    b = add("bench", cmd_bench, "measure and write build/<model>/bench.json")
    b.add_argument("--per-class", type=count(1, 100_000), default=25, help="held-out windows per gesture on the device")
    _runtime_arg(b, "the main runtime of bench.json; the TFLite Micro build is measured next to it when it builds "
                 "(runtimes.tflm)")
    _weight_streams_arg(b)
    _json_arg(b)
    rp = add("report", cmd_report, "one self-contained HTML page per model -> build/<model>/report.html")
    rp.add_argument("--all", action="store_true", help="every built-in model instead of --model")
    rp.add_argument("--device-per-class", type=int, default=10,
                    help="saved test windows per class run on the emulated board when report.json has no device "
                    "evaluation (0: do not run)")
    fl = add("flash", cmd_flash, "write firmware.elf to the board through a debug probe or a GDB server")
    fl.add_argument("--elf", help="flash this ELF instead of build/<model>/firmware/firmware.elf")
    fl.add_argument("--probe", default="openocd", choices=("openocd", "stlink", "pyocd", "gdb"),
                    help="openocd (default), stlink (st-flash), pyocd, or gdb (a GDB server: --gdb HOST:PORT)")
    fl.add_argument("--gdb", default="localhost:3333", metavar="HOST:PORT",
                    help="GDB server for --probe gdb (OpenOCD's default 3333; Renode: machine StartGdbServer PORT)")
    fl.add_argument("--dry-run", action="store_true", help="print the exact command and do nothing")
    fl.add_argument("--timeout", type=seconds, default=60.0, help="seconds before the tool is stopped (default 60)")
    mo = sub.add_parser("monitor", help="live view of a board's UART: PRED lines with a running tally, errors "
                        "highlighted; Ctrl-C exits")
    mo.add_argument("--port", required=True, help="serial port (USB-serial adapter on PA2/PA3), e.g. /dev/ttyUSB0")
    mo.add_argument("--baud", type=count(1, 10_000_000), default=115200)
    mo.add_argument("--duration", type=seconds, default=None, help="stop after this many seconds (default: Ctrl-C)")
    mo.add_argument("--max-lines", type=count(1), default=None, help="stop after this many lines")
    mo.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    mo.set_defaults(func=cmd_monitor)
    rc = sub.add_parser("record", help="stream raw accelerometer samples from the board (STREAM on) into the "
                        "project's CSV format for train --data")
    rc.add_argument("--port", required=True)
    rc.add_argument("--label", required=True, help="gesture label written on every row (e.g. shake)")
    rc.add_argument("--out", required=True, help="folder for the CSV (one file per recording)")
    rc.add_argument("--seconds", type=seconds, default=None, help="record this long (default: until Ctrl-C)")
    rc.add_argument("--samples", type=count(1, 100_000_000), default=None, help="record this many samples")
    rc.add_argument("--baud", type=count(1, 10_000_000), default=115200)
    rc.set_defaults(func=cmd_record)
    d = add("demo", cmd_demo, "the whole path for every built-in model (or --model): train -> firmware -> "
            "emulated board -> figures", model_help="run only this built-in model (default: every built-in model)")
    d.set_defaults(model=None)
    d.add_argument("--retrain", action="store_true")
    d.add_argument("--seed", type=count(0, 2**31 - 1), default=1234)
    d.add_argument("--per-class-train", type=count(1), default=None, help="1..1000000 (default: the model's own)")
    d.add_argument("--epochs", type=count(1, 100_000), default=None, help="1..100000 (default: the model's own)")
    d.add_argument("--per-class", type=count(1, 100_000), default=25, help="held-out windows per gesture on the device")
    _runtime_arg(d, "as for bench")
    _weight_streams_arg(d)
    from tinyml_disco.app import readme_figures

    rf = sub.add_parser("readme-figures", help="rewrite the README's measured-figures table from bench.json files")
    readme_figures.add_arguments(rf)
    rf.set_defaults(func=readme_figures.from_args)
    for sp in sub.choices.values():  # -v after the command too (scripts/demo.sh -v); SUPPRESS keeps the global one
        sp.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show TensorFlow/Keras/absl logs and warnings and every step line")
    return p


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable JSON on stdout (nothing else on stdout; "
                   "progress and step lines on stderr) instead of the human table")


def _units_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--units", default="auto", choices=("auto", "g", "m/s2", "mg"),
                   help="units of a CSV's acceleration columns (default auto: detected from gravity or the value "
                   "range; an ambiguous file is refused)")


def _weight_streams_arg(p: argparse.ArgumentParser) -> None:
    from tinyml_disco.compiler.model import WEIGHT_STREAMS

    p.add_argument("--weight-streams", default="auto", choices=WEIGHT_STREAMS,
                   help="where the compiled runtime keeps the conv layers' quad weight streams: auto (default) RAM, "
                   "or flash for the layers that bring the arena down to TFLite Micro's; ram: RAM everywhere "
                   "(fewest cycles, largest arena); flash: flash for every conv layer (smallest arena, more flash, "
                   "flash wait states; refused for a layer that cannot have them)")


def _runtime_arg(p: argparse.ArgumentParser, help_: str) -> None:
    p.add_argument("--runtime", default="compiled", choices=("compiled", "tflm", "auto"), help=help_)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console.configure(verbose=args.verbose)
    try:
        for folder in output_dirs(args):
            check_writable(folder)  # fail in a second, not after training
        return int(args.func(args))
    except (KeyboardInterrupt, Exception) as exc:  # one place maps outcomes to exit codes (console.EXIT_CODES)
        # "nothing partial" is true by construction: every artifact is written to a temporary file and renamed
        # (compiler/fileio.py), and a model's files are committed together with Ctrl-C held back (app/interrupts.py).
        code = console.exit_code(exc, args.command, _interrupted_where(args))
        if code is None:
            raise
        return code


if __name__ == "__main__":
    sys.exit(main())
