"""Training stage: fine-tuning on the 15 scenes, DDP pretraining (the recipes, presets of settings, are
``config.recipes``: the Snakefile reads them without torch).

Submodules are imported on demand.
"""
