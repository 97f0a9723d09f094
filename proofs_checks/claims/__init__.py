"""The claims, one module each; importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil
import re

_MODULES = (
    "c1_feasibility",
    "c2_genericity",
    "c3_parameter_bound",
    "c4_asymptotic",
    "c5_rho_predicts_capacity",
    "c6_jl",
    "c7_recall",
    "c8_editing",
    "c10_tradeoff",
)

for _name in _MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a claim whose module is not written yet is absent
        if _exc.name != f"{__name__}.{_name}":
            raise

# every other claim module of this package (c<number>_<name>.py) registers too, so a new claim needs no edit here
for _info in pkgutil.iter_modules(__path__):
    if re.fullmatch(r"c\d+_\w+", _info.name) and _info.name not in _MODULES:
        importlib.import_module(f"{__name__}.{_info.name}")
