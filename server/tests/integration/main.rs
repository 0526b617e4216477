//! Integration tests of the whole app, one binary (links once).

mod common;

mod auth_flow;
mod bearer;
mod cors;
mod csrf;
mod faults;
mod listeners;
mod persistence;
mod wire;
