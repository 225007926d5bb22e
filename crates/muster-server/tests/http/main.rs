//! HTTP tests of the real router on a free 127.0.0.1 port, with a fresh SQLite database
//! per server and a real HTTP client.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "a test fails at the first broken step")]

mod api;
mod bulk;
mod common;
mod findings;
mod openapi;
mod scim;
mod ui;
mod ui_uploads;
