"""Differentiable tensor operations, one ``Function`` per op, grouped by kind."""
