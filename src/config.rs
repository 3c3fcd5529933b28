//! Repo configuration `.kustodian.yaml` (stub).
