//! Issue 13, item 5: 128 parallel bad logins must not take the real server (the
//! binary, with the committed demo users and their real Argon2id cost) into the
//! gigabytes. Each login comes from its own loopback address (127.0.0.2…) for its
//! own unknown account, so no throttle stops it: what bounds memory here is the cap
//! on concurrent password hashes. Peak RSS is read from `/proc/PID/status` (VmHWM).

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::TempDir;

const PARALLEL: u8 = 128;
const MIB: u64 = 1024 * 1024;

struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = TempDir::new("mem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_token-warden-server"))
        // The default is the number of cores; fixed here so the bound holds anywhere.
        .args(["--hash-concurrency", "4"])
        .args(["--addr", "127.0.0.1:0", "--db", ":memory:", "--data-dir"])
        .arg(dir.0.join("data"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.trim().trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Server {
        child,
        addr,
        _dir: dir,
    }
}

/// `VmRSS` and `VmHWM` of `pid`, in bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Bad login `n`, for its own unknown account from 127.0.0.`n+2`, sent all but its
/// last byte; the caller sends that byte for every login at once.
async fn connect_bad_login(server: SocketAddr, n: u8) -> (TcpStream, u8) {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, n + 2), 0)))
        .unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let body = format!(r#"{{"username":"nobody-{n}","password":"wrong-{n}"}}"#);
    let request = format!(
        "POST /auth/login HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\
         X-Requested-With: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (head, last) = request.as_bytes().split_at(request.len() - 1);
    stream.write_all(head).await.unwrap();
    (stream, last[0])
}

/// Sends the last byte and reads the status code.
async fn finish_login(mut stream: TcpStream, last: u8) -> u16 {
    stream.write_all(&[last]).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_bad_logins_stay_within_bounded_memory() {
    let server = start();
    let pid = server.child.id();
    let (idle, _) = memory(pid);
    let run = async {
        let mut pending = Vec::new();
        for n in 0..PARALLEL {
            pending.push(connect_bad_login(server.addr, n).await);
        }
        // All 128 requests complete at the same moment.
        let finishing: Vec<_> = pending
            .into_iter()
            .map(|(stream, last)| tokio::spawn(finish_login(stream, last)))
            .collect();
        let mut statuses = Vec::new();
        for login in finishing {
            statuses.push(login.await.unwrap());
        }
        statuses
    };
    let statuses = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("128 logins did not finish within 300 s");
    let (after, peak) = memory(pid);
    println!(
        "{PARALLEL} parallel bad logins: RSS idle {} MiB, peak (VmHWM) {} MiB, after {} MiB; statuses {:?}",
        idle / MIB,
        peak / MIB,
        after / MIB,
        count(&statuses)
    );
    assert!(
        statuses.iter().all(|s| *s == 401),
        "every login is refused as a bad password: {:?}",
        count(&statuses)
    );
    // The demo users hash with m = 19 MiB: four hashes at once from reused buffers,
    // not 128 fresh allocations (8 MiB -> 2.4 GiB before, and it stayed there).
    assert!(
        peak < idle + 256 * MIB,
        "peak RSS {} MiB (idle {} MiB)",
        peak / MIB,
        idle / MIB
    );
}

fn count(statuses: &[u16]) -> Vec<(u16, usize)> {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(c, _)| c == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((*s, 1)),
        }
    }
    counts
}
