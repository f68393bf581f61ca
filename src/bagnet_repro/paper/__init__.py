"""The report as a PDF: the named values its text quotes, their provenance, and the Typst build."""
