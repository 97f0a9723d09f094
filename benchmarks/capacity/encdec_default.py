"""encdec at its default width against plain interpolation, on the standard sets with F >= 4 d.

For each standard fact set (families spherical, gaussian, spiked; d in {32, 64};
F = alpha d^2 with alpha in {1/32, 1/16, 1/8}; N = F; factset_seed 0) with
F >= 4 d, ``construct(fs, "encdec")`` at its default width (``hidden=None``,
seed 0) and :func:`factmlp.verify.verify_storage` on the result.  Plain
interpolation (one hidden unit per fact) has 3 d F parameters; a row is
``below_interp`` when ``params < 3 d F``.

    python benchmarks/capacity/encdec_default.py [--out benchmarks/capacity/encdec_default.csv]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from fractions import Fraction

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _results import write_csv  # noqa: E402

from factmlp import construct  # noqa: E402
from factmlp.families import make_factset  # noqa: E402
from factmlp.provenance import provenance  # noqa: E402
from factmlp.verify import verify_storage  # noqa: E402

FAMILIES = ("spherical", "gaussian", "spiked")
DS = (32, 64)
ALPHAS = (Fraction(1, 32), Fraction(1, 16), Fraction(1, 8))


def rows() -> list[dict]:
    """One row per standard set with F >= 4 d: width, params (folded, factored), 3 d F, stored."""
    out = []
    for d in DS:
        for a in ALPHAS:
            F = round(a * d * d)
            if F < 4 * d:
                continue
            for fam in FAMILIES:
                fs = make_factset(fam, d, F, F, 0)
                c = construct(fs, "encdec")
                rep = verify_storage(c.mlp, fs)
                interp = 3 * d * F
                out.append(
                    {
                        "family": fam,
                        "d": d,
                        "alpha": str(a),
                        "F": F,
                        "N": F,
                        "hidden": c.hidden,
                        "theory_hidden": c.theory_hidden,
                        "params": c.params,
                        "params_factored": c.params_factored,
                        "interp_params": interp,
                        "params_over_interp": c.params / interp,
                        "below_interp": c.params < interp,
                        "stored": rep.stored,
                        "total": rep.total,
                        "seconds": c.seconds,
                        "loadavg": open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "",
                    }
                )
                print(out[-1], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "encdec_default.csv"))
    a = ap.parse_args()
    write_csv(a.out, rows(), {"provenance": json.dumps(provenance(), sort_keys=True)})


if __name__ == "__main__":
    main()
