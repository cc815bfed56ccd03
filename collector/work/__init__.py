"""The worker pool that fetches windows concurrently."""
