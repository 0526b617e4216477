//! A tiny raw HTTP/1.1 client for tests that need a real socket (dropped
//! connections, hangs, several listeners).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub enum Wire {
    /// The whole response (the request asks for `Connection: close`).
    Response(String),
    /// The server closed the connection without a byte.
    Closed,
    /// Nothing within the timeout.
    TimedOut,
}

impl Wire {
    pub fn text(&self) -> &str {
        match self {
            Self::Response(text) => text,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    pub fn status(&self) -> u16 {
        self.text().split(' ').nth(1).unwrap().parse().unwrap()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.text().split("\r\n\r\n").next().unwrap();
        head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    pub fn body(&self) -> &str {
        self.text().split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }

    /// The refresh cookie value set by this response.
    pub fn refresh_cookie(&self) -> Option<String> {
        let cookie = self.header("set-cookie")?;
        let value = cookie.split(';').next()?.split_once('=')?.1.to_string();
        (!value.is_empty()).then_some(value)
    }
}

/// Sends one request and reads until the server closes.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Wire {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    match tokio::time::timeout(timeout, stream.read_to_end(&mut buf)).await {
        Err(_) => Wire::TimedOut,
        Ok(Err(_)) if buf.is_empty() => Wire::Closed,
        Ok(Ok(0)) => Wire::Closed,
        Ok(_) => Wire::Response(String::from_utf8_lossy(&buf).into_owned()),
    }
}
