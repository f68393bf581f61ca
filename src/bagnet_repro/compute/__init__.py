"""Where a job computes: device choice and its checks, the NVIDIA driver probe, one GPU per job, out of memory.

Imports torch; nothing in ``config`` may import this package.
"""
