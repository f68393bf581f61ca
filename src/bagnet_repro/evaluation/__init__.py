"""Evaluation stage: inference, accuracy (clean and scrambled), the precision study and the statistics."""
