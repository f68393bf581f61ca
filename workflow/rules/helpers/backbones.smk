"""Planning helpers of the backbones stage (its rules: workflow/rules/backbones.smk)."""


def backbone_names():
    """The backbones of the vision-toolbox backbones' table (backbones.names: all, or a list; [] skips the table)."""
    names = config["backbones"]["names"]
    return list(catalog.BACKBONE_NAMES) if names == "all" else names


def backbone_outputs():
    return [f"report/tables/backbones.{ext}" for ext in ("csv", "md", "tex")] if backbone_names() else []
