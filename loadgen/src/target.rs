//! The broker under test, given as an AMQP URL, and opening connections to it.
//!
//! Parsed by warren-remote's `parse_url`, the one URL parser the project has.

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
    /// Parses `amqp://[user[:password]@]host[:port][/vhost]` with warren-remote's
    /// parser (the vhost percent-decoded, `%2F` is `/`; RabbitMQ's defaults).
    pub fn parse(url: &str) -> Result<Target, Error> {
        let t = warren_remote::parse_url(url).map_err(Error)?;
        Ok(Target {
            host: t.host,
            port: t.port,
            user: t.user,
            password: t.password,
            vhost: t.vhost,
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
