//! Errors as RabbitMQ sends them: a reply code, a reply text that starts with the
//! code's name, the class and method that failed, and whether the whole connection
//! or only the channel is closed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// AMQP reply codes, with the names RabbitMQ prefixes to its reply texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u16)]
pub enum ReplyCode {
    ContentTooLarge = 311,
    NoRoute = 312,
    NoConsumers = 313,
    ConnectionForced = 320,
    InvalidPath = 402,
    AccessRefused = 403,
    NotFound = 404,
    ResourceLocked = 405,
    PreconditionFailed = 406,
    FrameError = 501,
    SyntaxError = 502,
    CommandInvalid = 503,
    ChannelError = 504,
    UnexpectedFrame = 505,
    ResourceError = 506,
    NotAllowed = 530,
    NotImplemented = 540,
    InternalError = 541,
}

impl ReplyCode {
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The upper-case name RabbitMQ puts at the start of reply texts.
    pub fn name(self) -> &'static str {
        match self {
            ReplyCode::ContentTooLarge => "CONTENT_TOO_LARGE",
            ReplyCode::NoRoute => "NO_ROUTE",
            ReplyCode::NoConsumers => "NO_CONSUMERS",
            ReplyCode::ConnectionForced => "CONNECTION_FORCED",
            ReplyCode::InvalidPath => "INVALID_PATH",
            ReplyCode::AccessRefused => "ACCESS_REFUSED",
            ReplyCode::NotFound => "NOT_FOUND",
            ReplyCode::ResourceLocked => "RESOURCE_LOCKED",
            ReplyCode::PreconditionFailed => "PRECONDITION_FAILED",
            ReplyCode::FrameError => "FRAME_ERROR",
            ReplyCode::SyntaxError => "SYNTAX_ERROR",
            ReplyCode::CommandInvalid => "COMMAND_INVALID",
            ReplyCode::ChannelError => "CHANNEL_ERROR",
            ReplyCode::UnexpectedFrame => "UNEXPECTED_FRAME",
            ReplyCode::ResourceError => "RESOURCE_ERROR",
            ReplyCode::NotAllowed => "NOT_ALLOWED",
            ReplyCode::NotImplemented => "NOT_IMPLEMENTED",
            ReplyCode::InternalError => "INTERNAL_ERROR",
        }
    }

    /// Codes the AMQP spec defines as connection exceptions (the rest close a channel).
    pub fn is_connection_error(self) -> bool {
        matches!(
            self,
            ReplyCode::ConnectionForced
                | ReplyCode::InvalidPath
                | ReplyCode::FrameError
                | ReplyCode::SyntaxError
                | ReplyCode::CommandInvalid
                | ReplyCode::ChannelError
                | ReplyCode::UnexpectedFrame
                | ReplyCode::ResourceError
                | ReplyCode::NotAllowed
                | ReplyCode::NotImplemented
                | ReplyCode::InternalError
        )
    }
}

/// A protocol error: what goes into `channel.close` or `connection.close`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmqpError {
    pub code: ReplyCode,
    /// The full reply text, e.g. `NOT_FOUND - no queue 'q' in vhost '/'`.
    pub text: String,
    /// Class and method ids of the method that failed (0, 0 when none).
    pub class_id: u16,
    pub method_id: u16,
}

impl AmqpError {
    /// An error whose text is the code's name, " - ", and the explanation.
    pub fn new(code: ReplyCode, explanation: impl fmt::Display) -> AmqpError {
        AmqpError {
            code,
            text: format!("{} - {}", code.name(), explanation),
            class_id: 0,
            method_id: 0,
        }
    }

    /// Records which method failed.
    pub fn on(mut self, (class_id, method_id): (u16, u16)) -> AmqpError {
        self.class_id = class_id;
        self.method_id = method_id;
        self
    }

    pub fn is_connection_error(&self) -> bool {
        self.code.is_connection_error()
    }

    pub fn not_found(what: &str, name: &str, vhost: &str) -> AmqpError {
        AmqpError::new(
            ReplyCode::NotFound,
            format_args!("no {what} '{name}' in vhost '{vhost}'"),
        )
    }

    pub fn precondition(explanation: impl fmt::Display) -> AmqpError {
        AmqpError::new(ReplyCode::PreconditionFailed, explanation)
    }

    pub fn access_refused(explanation: impl fmt::Display) -> AmqpError {
        AmqpError::new(ReplyCode::AccessRefused, explanation)
    }
}

impl fmt::Display for AmqpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.code(), self.text)
    }
}

impl std::error::Error for AmqpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_starts_with_the_code_name() {
        let e = AmqpError::not_found("queue", "q", "/");
        assert_eq!(e.text, "NOT_FOUND - no queue 'q' in vhost '/'");
        assert_eq!(e.code.code(), 404);
        assert!(!e.is_connection_error());
        assert!(AmqpError::new(ReplyCode::NotAllowed, "x").is_connection_error());
    }
}
