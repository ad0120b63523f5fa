"""Build the optional compiled kernels; everything else is declared in pyproject.toml.

The extensions are optional: without a C compiler cofail installs and runs on its NumPy code
paths, which compute the same numbers more slowly (``cofail.probability.kernels_available``).

The stack model's kernels (``probability/_kernels.c``) share the double-double arithmetic of the
fault-tree engine's (``faulttree/_double_double.h``), so their include path names the faulttree
directory: the stack model depends on the fault-tree engine, never the other way round.
"""

from setuptools import Extension, setup

FLAGS = {
    "extra_compile_args": ["-O3", "-std=c11", "-Wall", "-Wextra", "-pthread"],
    "extra_link_args": ["-pthread"],
    "optional": True,
}
FAULTTREE = "src/cofail/faulttree"
PROBABILITY = "src/cofail/probability"
SCORES = "src/cofail/scores"

setup(
    ext_modules=[
        *(
            Extension(
                f"cofail.faulttree.{name}",
                [f"{FAULTTREE}/{name}.c"],
                depends=[f"{FAULTTREE}/{h}.h" for h in ("_cudd_node", "_double_double")],
                **FLAGS,
            )
            for name in ("_bdd_kernels", "_flat_bdd", "_sampling")
        ),
        Extension(
            "cofail.probability._kernels",
            [f"{PROBABILITY}/_kernels.c"],
            include_dirs=[FAULTTREE],
            depends=[f"{PROBABILITY}/_subset_transform.h", f"{FAULTTREE}/_double_double.h"],
            **FLAGS,
        ),
        *(
            Extension(f"cofail.scores.{name}", [f"{SCORES}/{name}.c"], **FLAGS)
            for name in ("_radix", "_columns")
        ),
    ]
)
