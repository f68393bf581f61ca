"""Files the package writes and reads: atomic writes, torch files read as data only, the code's digest.

``atomic`` and ``code_digest`` are torch-free (the Snakefile reads the digest); ``torchfile`` imports torch
when it reads.
"""
