"""tinyml-disco training side: synthetic data, users' recordings, feature pipelines, Keras models, int8 conversion
and the model artifacts (build/<model>/, the typed model card for model.json). The compiler lives in `compiler/`,
the CLI and pipeline in `app/`."""
