"""The recon app: reconcile two datasets, or a pipeline's last run, and report (`recon
--help`)."""
