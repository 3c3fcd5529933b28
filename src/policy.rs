//! Policy files (stub).
