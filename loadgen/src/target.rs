//! The broker under test, given as an AMQP URL, and opening connections to it.
//!
//! Parsed here rather than with amqprs's `urispec` feature so the crate builds with the
//! same amqprs features as warren-remote (no extra dependency to compile on a 2-core box).

use amqprs::connection::{Connection, OpenConnectionArguments};

use crate::Error;

/// Where a broker listens and who to log in as: `amqp://user:pass@host:port/vhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub vhost: String,
}

impl Target {
    /// Parses `amqp://[user[:password]@]host[:port][/vhost]`; the vhost is percent-decoded
    /// (`%2F` is `/`) and defaults to `/`, as RabbitMQ's URI spec says.
    pub fn parse(url: &str) -> Result<Target, Error> {
        let rest = url
            .strip_prefix("amqp://")
            .ok_or_else(|| Error(format!("{url}: only amqp:// URLs are supported")))?;
        let (authority, vhost) = match rest.split_once('/') {
            Some((authority, vhost)) => (authority, percent_decode(vhost)?),
            None => (rest, "/".to_string()),
        };
        let vhost = if vhost.is_empty() { "/".into() } else { vhost };
        let (credentials, hostport) = match authority.rsplit_once('@') {
            Some((credentials, hostport)) => (Some(credentials), hostport),
            None => (None, authority),
        };
        let (user, password) = match credentials {
            Some(c) => match c.split_once(':') {
                Some((user, password)) => (percent_decode(user)?, percent_decode(password)?),
                None => (percent_decode(c)?, String::new()),
            },
            None => ("guest".into(), "guest".into()),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse()
                    .map_err(|_| Error(format!("{url}: bad port {port:?}")))?;
                (host, port)
            }
            None => (hostport, 5672),
        };
        if host.is_empty() {
            return Err(Error(format!("{url}: no host")));
        }
        Ok(Target {
            host: host.to_string(),
            port,
            user,
            password,
            vhost,
        })
    }

    /// Opens one AMQP connection; `name` shows up in the broker's connection list.
    pub async fn connect(&self, name: &str) -> Result<Connection, Error> {
        let args = OpenConnectionArguments::new(&self.host, self.port, &self.user, &self.password)
            .virtual_host(&self.vhost)
            .connection_name(name)
            .finish();
        Connection::open(&args)
            .await
            .map_err(|e| Error(format!("connecting to {}:{}: {e}", self.host, self.port)))
    }
}

/// Decodes `%XX` escapes; anything else is kept as it is.
fn percent_decode(text: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error(format!("bad percent escape in {text:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error(format!("{text:?} is not UTF-8 once decoded")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_url() {
        let t = Target::parse("amqp://bob:s%40cret@10.0.0.1:5673/%2F").unwrap();
        assert_eq!(
            t,
            Target {
                host: "10.0.0.1".into(),
                port: 5673,
                user: "bob".into(),
                password: "s@cret".into(),
                vhost: "/".into(),
            }
        );
    }

    #[test]
    fn fills_in_rabbitmq_defaults() {
        let t = Target::parse("amqp://localhost").unwrap();
        assert_eq!(
            (t.port, t.user.as_str(), t.vhost.as_str()),
            (5672, "guest", "/")
        );
        assert_eq!(Target::parse("amqp://h:1/app").unwrap().vhost, "app");
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        assert!(Target::parse("http://h").is_err());
        assert!(Target::parse("amqp://h:port").is_err());
        assert!(Target::parse("amqp://h/%2").is_err());
    }
}
