"""tinyml-disco training side: synthetic data, models, int8 conversion and the model compiler."""
