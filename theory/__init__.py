"""Symbolic derivations (SymPy) of factmlp's bounds and measure-zero conditions."""
