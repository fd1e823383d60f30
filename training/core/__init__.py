"""The shared core every modality uses: arguments, the data description, metrics, the Trainer loop
(train/evaluate/save one model), results, plots, errors, progress. Imports nothing else of ``training``."""
