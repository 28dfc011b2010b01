"""The application layer: CLI, pipeline (train -> compile -> firmware -> board), bench, profile, report, the
host build of the kernels and the TFLite Micro oracle. The only package that imports training, compiler and sim
together (import-linter enforces the layering: see .importlinter)."""
