//! Discovery of apps and environments (stub).
