"""Build the optional compiled kernels; everything else is declared in pyproject.toml.

The extensions are optional: without a C compiler cofail installs and runs on its NumPy code
paths, which compute the same numbers more slowly (``cofail.probability.kernels_available``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            f"cofail.probability.{name}",
            [f"src/cofail/probability/{name}.c"],
            depends=[
                f"src/cofail/probability/{h}.h"
                for h in ("_cudd_node", "_double_double", "_subset_transform")
            ],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        )
        for name in ("_kernels", "_flat_bdd", "_sampling")
    ]
)
