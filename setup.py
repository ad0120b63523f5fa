"""Build the optional compiled kernels; everything else is declared in pyproject.toml.

The extension is optional: without a C compiler cofail installs and runs on its NumPy code
paths, which compute the same numbers more slowly (``cofail.probability.kernels_available``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cofail.probability._kernels",
            ["src/cofail/probability/_kernels.c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
