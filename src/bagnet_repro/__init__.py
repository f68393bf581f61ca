"""bagnet-repro: regenerate the BagNets reproducibility report from one Snakemake command."""

__version__ = "0.1.0"
