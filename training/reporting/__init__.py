"""Write-ups computed from the runs' JSON: insights, model cards and the report."""
