"""The time-series modality: its data sources (aeon archives, .ts, wide and long tables, Hub), description, lineup."""
