"""Fuzz harness (issue 10): seeded mutators, targets, counts table; `python -m tests.fuzz --help`."""
