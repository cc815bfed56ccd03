"""Reading the store back out: export, plot, status."""
