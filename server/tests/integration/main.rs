//! Integration tests of the whole app, one binary (links once).

mod common;

mod auth_flow;
mod bearer;
mod cors;
mod csrf;
mod family_revocation;
mod faults;
mod listeners;
mod login_memory;
mod login_throttle;
mod persistence;
mod slow_clients;
mod wire;
