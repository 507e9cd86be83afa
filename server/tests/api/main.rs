#![expect(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]
//! Integration tests: each spawns Optimus on port 0 against a fresh database (PostgreSQL when
//! `OPTIMUS_TEST_DATABASE_URL` is set, SQLite otherwise) and its own Redis key prefix (when
//! `OPTIMUS_TEST_REDIS_URL` is set), and talks to it over HTTP and WebSocket.

mod access;
mod audit;
mod auth;
mod backups;
mod backups_databases;
mod backups_remote;
mod backups_restore;
mod catalog;
mod cli;
mod council;
mod council_judgement;
mod deploy;
mod deployments;
mod deployments_docker;
mod endpoints;
mod endpoints_services;
mod events;
mod faults;
mod github;
mod health;
mod helpers;
mod input;
mod jobs;
mod limits;
mod llm;
mod mcp;
mod monitoring;
mod notifications_out;
mod outages;
mod pipeline_instances;
mod pipeline_runs;
mod pipeline_triggers;
mod pipelines;
mod policy;
mod runtime;
mod runtime_control;
mod runtime_output;
mod tokens;
mod traces;
