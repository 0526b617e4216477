//! `token-warden-server [FLAGS]` (see `--help`), or `token-warden-server hash-password`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use token_warden_server::serve::{bind, serve};
use token_warden_server::{users, AppState, Config, SystemClock};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("hash-password") {
        return hash_password();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = match Config::from_args(args, |k| std::env::var(k).ok()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let addrs = config.addrs.clone();
    let state =
        match tokio::task::spawn_blocking(move || AppState::open(config, Arc::new(SystemClock)))
            .await
        {
            Ok(Ok(state)) => state,
            Ok(Err(e)) => {
                eprintln!("cannot start: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
    let listeners = match bind(&addrs).await {
        Ok(listeners) => listeners,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for listener in &listeners {
        match listener.local_addr() {
            // Tests read these lines to learn the ports when they ask for port 0.
            Ok(addr) => println!("token-warden-server listening on http://{addr}/"),
            Err(e) => eprintln!("listening, but the address is unknown: {e}"),
        }
    }
    for (user, password) in &state.demo_logins {
        eprintln!("demo login: {user} / {password}");
    }
    if state.config.fault_mode {
        eprintln!("fault mode: /test/* is enabled");
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = serve(listeners, state, shutdown).await {
        eprintln!("server error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Reads one line (the password) from stdin and prints its Argon2id PHC hash.
fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("cannot read the password: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("usage: echo -n 'password' | token-warden-server hash-password");
        return ExitCode::from(2);
    }
    match users::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
