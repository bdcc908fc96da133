//! Reading the credentials out of a `connection.start-ok` response, for the
//! two mechanisms we offer.
//!
//! PLAIN (what pika and most clients send) is `\0user\0password`, parsed as
//! RabbitMQ parses it: no authorisation identity before the first NUL, no
//! NUL in the password. AMQPLAIN is a field table's contents without the length
//! prefix, with `LOGIN` and `PASSWORD` long strings.
//! A malformed response is 502 SYNTAX_ERROR; an unknown mechanism is
//! 503 COMMAND_INVALID, as in RabbitMQ.

use super::table::decode_table;
use super::wire::erlang_binary;
use bytes::Bytes;
use warren_core::error::{AmqpError, ReplyCode};
use warren_core::types::FieldValue;

/// A user name and password, as the client sent them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Invalid UTF-8 is replaced, so such a name simply matches no user.
    pub username: String,
    /// Raw bytes: passwords are hashed as bytes.
    pub password: Bytes,
}

impl Credentials {
    /// The password as text, or `None` if it is not UTF-8 (then it matches no
    /// stored password: those are set as JSON strings).
    pub fn password_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.password).ok()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Parses a start-ok (or secure-ok) response for `mechanism`.
pub fn parse_credentials(mechanism: &str, response: &Bytes) -> Result<Credentials, AmqpError> {
    match mechanism {
        "PLAIN" => parse_plain(response),
        "AMQPLAIN" => parse_amqplain(response),
        other => Err(AmqpError::new(
            ReplyCode::CommandInvalid,
            format_args!("unknown authentication mechanism '{other}'"),
        )
        .on((10, 11))),
    }
}

/// SASL PLAIN: `\0user\0password`.
pub fn parse_plain(response: &Bytes) -> Result<Credentials, AmqpError> {
    let invalid = || {
        AmqpError::new(
            ReplyCode::SyntaxError,
            format_args!("response {} invalid", erlang_binary(response)),
        )
        .on((10, 11))
    };
    let rest = response.strip_prefix(b"\0").ok_or_else(invalid)?;
    let user_end = rest.iter().position(|&b| b == 0).ok_or_else(invalid)?;
    let (user, rest) = rest.split_at(user_end);
    let password = rest.strip_prefix(b"\0").ok_or_else(invalid)?;
    if password.contains(&0) {
        return Err(invalid());
    }
    Ok(Credentials {
        username: String::from_utf8_lossy(user).into_owned(),
        password: Bytes::copy_from_slice(password),
    })
}

/// AMQPLAIN: table contents with `LOGIN` and `PASSWORD`.
pub fn parse_amqplain(response: &Bytes) -> Result<Credentials, AmqpError> {
    let table = decode_table(response.clone()).map_err(|e| e.on((10, 11)))?;
    let (Some(login), Some(password)) = (table.get("LOGIN"), table.get("PASSWORD")) else {
        return Err(AmqpError::new(
            ReplyCode::SyntaxError,
            format_args!("AMQPLAIN auth info {table} is missing LOGIN or PASSWORD field"),
        )
        .on((10, 11)));
    };
    match (login, password) {
        (FieldValue::LongStr(user), FieldValue::LongStr(pass)) => Ok(Credentials {
            username: String::from_utf8_lossy(user).into_owned(),
            password: pass.clone(),
        }),
        _ => Err(AmqpError::new(
            ReplyCode::SyntaxError,
            format_args!(
                "AMQPLAIN auth info {table} uses unsupported type for LOGIN or PASSWORD field"
            ),
        )
        .on((10, 11))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::table::encode_table_contents;
    use bytes::BytesMut;
    use warren_core::types::FieldTable;

    #[test]
    fn plain() {
        let c = parse_plain(&Bytes::from_static(b"\0guest\0secret")).unwrap();
        assert_eq!(c.username, "guest");
        assert_eq!(c.password_str(), Some("secret"));
        let c = parse_plain(&Bytes::from_static(b"\0\0")).unwrap();
        assert_eq!(c.username, "");
        assert!(c.password.is_empty());
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn malformed_plain_is_a_syntax_error() {
        for bad in [
            &b""[..],
            b"guest\0guest",
            b"authz\0guest\0guest",
            b"\0guest",
            b"\0guest\0pa\0ss",
        ] {
            let e = parse_plain(&Bytes::copy_from_slice(bad)).unwrap_err();
            assert_eq!(e.code, ReplyCode::SyntaxError, "{bad:?}");
            assert!(e.text.starts_with("SYNTAX_ERROR - response <<"));
        }
    }

    fn amqplain(t: &FieldTable) -> Bytes {
        let mut buf = BytesMut::new();
        encode_table_contents(t, &mut buf);
        buf.freeze()
    }

    #[test]
    fn amqplain_reads_login_and_password() {
        let t: FieldTable = [
            ("LOGIN", FieldValue::str("u")),
            ("PASSWORD", FieldValue::str("p")),
        ]
        .into_iter()
        .collect();
        let c = parse_credentials("AMQPLAIN", &amqplain(&t)).unwrap();
        assert_eq!(c.username, "u");
        assert_eq!(&c.password[..], b"p");
    }

    #[test]
    fn amqplain_errors() {
        let missing: FieldTable = [("LOGIN", FieldValue::str("u"))].into_iter().collect();
        let e = parse_amqplain(&amqplain(&missing)).unwrap_err();
        assert!(e.text.contains("missing LOGIN or PASSWORD"), "{}", e.text);
        let typed: FieldTable = [
            ("LOGIN", FieldValue::str("u")),
            ("PASSWORD", FieldValue::I32(1)),
        ]
        .into_iter()
        .collect();
        let e = parse_amqplain(&amqplain(&typed)).unwrap_err();
        assert!(e.text.contains("unsupported type"), "{}", e.text);
        let e = parse_amqplain(&Bytes::from_static(&[5, b'L'])).unwrap_err();
        assert_eq!(e.code, ReplyCode::SyntaxError);
    }

    #[test]
    fn unknown_mechanism() {
        let e = parse_credentials("EXTERNAL", &Bytes::new()).unwrap_err();
        assert_eq!(e.code, ReplyCode::CommandInvalid);
        assert_eq!(
            e.text,
            "COMMAND_INVALID - unknown authentication mechanism 'EXTERNAL'"
        );
    }
}
