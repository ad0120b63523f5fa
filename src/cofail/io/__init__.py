"""File formats: matrix files (YAML, CSV, JSON) and safe reading and writing."""

from cofail.io.files import read_text, write_atomic
from cofail.io.matrix_formats import (
    MatrixFormat,
    dumps_matrix,
    format_of,
    loads_matrix,
    read_matrix,
    write_matrix,
)

__all__ = [
    "MatrixFormat",
    "dumps_matrix",
    "format_of",
    "loads_matrix",
    "read_matrix",
    "read_text",
    "write_atomic",
    "write_matrix",
]
