"""tinyml-disco: train int8 gesture models, compile them to bare-metal C for the STM32F4 Discovery and run the
same ELF on an emulated board.

One distribution namespace over the repository's folders (pyproject.toml / setup.py map them):
`tinyml_disco.app` -> app/, `tinyml_disco.training` -> training/, `tinyml_disco.compiler` -> compiler/,
`tinyml_disco.sim` -> sim/; the firmware sources ship as data in `tinyml_disco/firmware` (firmware/).
"""

__version__ = "0.1.0"
