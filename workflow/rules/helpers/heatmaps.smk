"""Planning helpers of the heatmaps stage (its rules: workflow/rules/heatmaps.smk)."""


def main_heatmap_model():
    """The BagNet that picks the heatmap images and draws Figures 2 and 4 (the largest patch)."""
    return catalog.main_heatmap_model(models())


HEATMAP_FIGURES = ("heatmaps_classes", "heatmaps_models", "heatmaps_scrambled")


def heatmap_outputs():
    if not heatmap_models():
        return []
    return [f"report/figures/{name}.{ext}" for name in HEATMAP_FIGURES for ext in ("pdf", "png")]
