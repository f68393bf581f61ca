"""Planning helpers of the report stage (its rules: workflow/rules/report.smk)."""


def prediction_runs():
    """(model, seed, predictions file) of every evaluated run, in the config's order."""
    pattern = rules.evaluate.output.predictions
    return [(m, s, expand(pattern, model=m, seed=s)[0]) for m in models() for s in seeds()]
