"""TensorFlow, Keras and absl chatter: off by default, all of it back with TINYML_VERBOSE=1 (`tinyml-disco -v`).

Three sources, three switches: the C++ runtime reads TF_CPP_MIN_LOG_LEVEL once, when TensorFlow is first
imported (`quiet_env`, called before that import); the Python loggers (tf.get_logger, absl) and the `warnings`
module are set after it (`quiet_python`); the converter's MLIR passes write to file descriptor 2 whatever the
level, so `captured_fd2` parks fd 2 in a temporary file around the call and gives the text back on failure.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import TextIO

VERBOSE_ENV = "TINYML_VERBOSE"
# The modules whose Python warnings are noise to a user of the CLI (deprecations inside TF/Keras, the
# converter's TensorSpec dumps, retracing notices).
_NOISY_MODULES = r"(tensorflow|keras|absl|tflite|tflite_micro|h5py|google\.protobuf)(\.|$)"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def quiet_env() -> None:
    """Before `import tensorflow`: the C++ log level (3 = errors only in quiet mode, 0 = everything with -v)."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose() else "3"
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN reorders float sums: less repeatable
    if not verbose():
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")  # C++ absl logging (newer TF builds use it)


def quiet_python(tf) -> None:
    """After `import tensorflow`: Python-side loggers and warnings (no-op with -v)."""
    if verbose():
        return
    import logging

    tf.get_logger().setLevel(logging.ERROR)
    tf.autograph.set_verbosity(0)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # absl ships with TensorFlow; without it there is nothing to quiet
        pass
    warnings.filterwarnings("ignore", module=_NOISY_MODULES)


@contextlib.contextmanager
def captured_output() -> Iterator[TextIO]:
    """Quiet mode: file descriptors 1 and 2 go to a temporary file for the block (TensorFlow's C++ logs, the
    converter's `Saved artifact ...` / TensorSpec dumps); if the block raises, that text is written to stderr
    before the exception propagates, so a failure still shows TensorFlow's reason. Yields a stream on the real
    stderr, for a progress bar that must stay visible during the block. With -v: nothing is captured."""
    if verbose():
        yield sys.stderr
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile(mode="w+b") as tmp, os.fdopen(os.dup(saved[2]), "w") as real:
        for fd in saved:
            os.dup2(tmp.fileno(), fd)
        failed = False
        try:
            yield real
        except BaseException:
            failed = True
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, orig in saved.items():
                os.dup2(orig, fd)
                os.close(orig)
            if failed:
                tmp.seek(0)
                sys.stderr.write(tmp.read().decode(errors="replace"))
                sys.stderr.flush()
