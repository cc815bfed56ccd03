"""Events the pipeline emits and the observers that watch them: logs, progress, summary."""
