//! Output formats (stub: filled by the report work).
