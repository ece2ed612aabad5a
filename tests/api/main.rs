//! End-to-end tests through the HTTP API, each on SQLite and (when configured) PostgreSQL.

mod auth;
mod catalog;
mod console;
mod counter;
mod errors;
mod feeds;
mod integrations_console;
mod migrations;
mod openapi;
mod ops;
mod orders;
mod periods;
mod probe;
mod reconciliation;
mod replica;
mod reports;
mod setup;
mod setup_console;
mod tenancy;
mod visitor;
mod webhooks;
