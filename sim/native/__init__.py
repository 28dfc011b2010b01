"""Native (C) helpers for the emulator, built with the host compiler: the exact-count block hook."""
