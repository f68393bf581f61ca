"""Training stage: recipes (presets of settings), fine-tuning on the 15 scenes, DDP pretraining.

Submodules are imported on demand (``training.recipes`` stays torch-free for the Snakefile).
"""
