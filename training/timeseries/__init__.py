"""The time-series modality: its data sources (aeon archives, .ts, wide and long tables, Hub), description, lineup."""

# The first test series of each class, beside the run: the Space's examples (space/catalog.py reads it). Here,
# where importing it loads nothing else, so that the Space need not import the training code's data libraries.
SERIES_EXAMPLES = "series_examples.json"
