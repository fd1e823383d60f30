"""Train, compare and publish text and image classifiers: shared library for the scripts in this folder."""
