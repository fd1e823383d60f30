"""Experiments beyond one training run: hyperparameter searches (Optuna, Ray Tune) and ablations."""
