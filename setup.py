"""Package layout (everything else is in pyproject.toml): the repository keeps its top-level folders (app/,
compiler/, training/, sim/, firmware/) while the installed import names live under one namespace,
`tinyml_disco.*`. The subpackages are found here, so a new one needs no edit."""

from setuptools import find_packages, setup

PYTHON_PACKAGES = ("app", "compiler", "training", "sim")

package_dir = {"tinyml_disco": "tinyml_disco", "tinyml_disco.firmware": "firmware"}
packages = ["tinyml_disco", "tinyml_disco.firmware"]
for top in PYTHON_PACKAGES:
    package_dir[f"tinyml_disco.{top}"] = top
    packages += [f"tinyml_disco.{top}", *(f"tinyml_disco.{top}.{sub}" for sub in find_packages(top))]

setup(
    package_dir=package_dir,
    packages=packages,
    package_data={
        # the bare-metal firmware: sources, headers, kernels (.inc), linker script, startup, Makefile, TFLM glue
        "tinyml_disco.firmware": ["Makefile", "**/*.c", "**/*.h", "**/*.inc", "**/*.S", "**/*.ld", "**/*.cc"],
        # the emulator's native block hook, compiled on first use into a per-user cache
        "tinyml_disco.sim.native": ["*.c", "*.h"],
        # Renode: C# peripheral models, platform overlays, the script
        "tinyml_disco.sim.renode": ["*.cs", "*.repl", "*.resc"],
    },
    include_package_data=False,
)
