"""Receptive fields (Figure 1): the theoretical per-layer table and the input-gradient measurement."""
