"""What every runtime shares about a run: its identity and its life as run_event records."""
