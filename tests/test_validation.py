"""check_float_dtype: the one dtype check shared by the torch modules."""

import numpy as np
import pytest

from factmlp.errors import InvalidInputError
from factmlp.validation import check_float_dtype


@pytest.mark.parametrize("dtype, name", [("float32", "float32"), (np.float64, "float64"), (np.dtype("f4"), "float32")])
def test_numpy_float_dtypes_are_named(dtype, name):
    assert check_float_dtype(dtype) == name


@pytest.mark.parametrize("dtype", ["float16", np.int64, "int32", "complex128", "nonsense", object])
def test_other_dtypes_are_refused_by_name(dtype):
    with pytest.raises(InvalidInputError, match="dtype must be one of"):
        check_float_dtype(dtype)


def test_torch_dtypes():
    torch = pytest.importorskip("torch")
    assert check_float_dtype(torch.float32) == "float32"
    assert check_float_dtype(torch.float64) == "float64"
    with pytest.raises(InvalidInputError, match="torch.bfloat16"):
        check_float_dtype(torch.bfloat16)
