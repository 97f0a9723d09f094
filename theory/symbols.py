"""The symbols every derivation shares, with their assumptions declared.

SymPy treats two symbols as equal when name and assumptions agree, so
modules import these rather than re-declaring them.

=======  =================================================================
symbol   meaning
=======  =================================================================
F        number of facts (keys), positive integer
N        number of values, positive integer (N >= 2 in use)
d        embedding dimension, positive integer
h        hidden width of a gated MLP, positive integer
m        code (projection) dimension of the encoder-decoder, positive integer
s        bucket size (keys per encoder gadget), positive integer
b        bits stored per parameter, positive
rho      decodability of the values, 0 < rho <= 1
eps      JL distortion, 0 < eps < 1
delta    failure probability, 0 < delta < 1
lam      ridge parameter of the Hebbian readout, positive
=======  =================================================================
"""

from __future__ import annotations

import sympy as sp

F = sp.Symbol("F", positive=True, integer=True)
N = sp.Symbol("N", positive=True, integer=True)
d = sp.Symbol("d", positive=True, integer=True)
h = sp.Symbol("h", positive=True, integer=True)
m = sp.Symbol("m", positive=True, integer=True)
s = sp.Symbol("s", positive=True, integer=True)
b = sp.Symbol("b", positive=True)
rho = sp.Symbol("rho", positive=True)
eps = sp.Symbol("epsilon", positive=True)
delta = sp.Symbol("delta", positive=True)
lam = sp.Symbol("lambda", positive=True)

__all__ = ["F", "N", "d", "h", "m", "s", "b", "rho", "eps", "delta", "lam"]

# Auxiliary symbols of the derivations (added by the theory/ module).
P = sp.Symbol("P", positive=True)  # number of parameters
n = sp.Symbol("n", positive=True, integer=True)  # number of points (JL)
x = sp.Symbol("x", positive=True)  # generic positive real
y = sp.Symbol("y", positive=True)
t = sp.Symbol("t", positive=True)  # Chernoff parameter
u = sp.Symbol("u", positive=True)  # reparametrization variable
w = sp.Symbol("w", nonnegative=True, integer=True)
q = sp.Symbol("q", positive=True, integer=True)
r = sp.Symbol("r", positive=True, integer=True)  # shared gate rows of the encoder, ceil(F/d)

__all__ += ["P", "n", "x", "y", "t", "u", "w", "q", "r"]
