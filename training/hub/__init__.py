"""The Hugging Face Hub side: publishing a run's models and deploying the Space."""
