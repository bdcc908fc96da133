//! AMQP 0-9-1 data types as the broker sees them: field tables, the 14 basic
//! properties and the message itself.
//!
//! These are the types the wire codec (in the server) decodes into and the
//! simulation builds from scenario JSON, so both shells hand the core the same thing.

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One value of an AMQP field table, with RabbitMQ's type letters.
///
/// The variants keep the wire type so a message's headers go back out exactly
/// as they came in (clients can tell a `long` from a `long long`).
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// `t`
    Bool(bool),
    /// `b`
    I8(i8),
    /// `B`
    U8(u8),
    /// `s` (RabbitMQ's meaning: signed 16-bit)
    I16(i16),
    /// `u`
    U16(u16),
    /// `I`
    I32(i32),
    /// `i`
    U32(u32),
    /// `l`
    I64(i64),
    /// `f`
    F32(f32),
    /// `d`
    F64(f64),
    /// `D`: scale, unscaled value
    Decimal(u8, u32),
    /// `S`: long string; bytes, not necessarily UTF-8
    LongStr(Bytes),
    /// `A`
    Array(Vec<FieldValue>),
    /// `T`: seconds since the epoch
    Timestamp(u64),
    /// `F`
    Table(FieldTable),
    /// `V`
    Void,
    /// `x`
    Bytes(Bytes),
}

impl FieldValue {
    /// A long string from text.
    pub fn str(s: &str) -> FieldValue {
        FieldValue::LongStr(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// The value as an integer, whatever integer type it was sent as.
    pub fn as_i64(&self) -> Option<i64> {
        Some(match *self {
            FieldValue::I8(v) => v as i64,
            FieldValue::U8(v) => v as i64,
            FieldValue::I16(v) => v as i64,
            FieldValue::U16(v) => v as i64,
            FieldValue::I32(v) => v as i64,
            FieldValue::U32(v) => v as i64,
            FieldValue::I64(v) => v,
            _ => return None,
        })
    }

    /// The value as text, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::LongStr(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The name RabbitMQ uses for this value's type in error texts.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Bool(_) => "bool",
            FieldValue::I8(_) => "byte",
            FieldValue::U8(_) => "unsignedbyte",
            FieldValue::I16(_) => "short",
            FieldValue::U16(_) => "unsignedshort",
            FieldValue::I32(_) => "signedint",
            FieldValue::U32(_) => "unsignedint",
            FieldValue::I64(_) => "long",
            FieldValue::F32(_) => "float",
            FieldValue::F64(_) => "double",
            FieldValue::Decimal(..) => "decimal",
            FieldValue::LongStr(_) => "longstr",
            FieldValue::Array(_) => "array",
            FieldValue::Timestamp(_) => "timestamp",
            FieldValue::Table(_) => "table",
            FieldValue::Void => "void",
            FieldValue::Bytes(_) => "binary",
        }
    }

    /// Equality the way a headers exchange compares values: numbers by value
    /// whatever their width, everything else exactly.
    pub fn loosely_equals(&self, other: &FieldValue) -> bool {
        match (self.as_i64(), other.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }
}

impl fmt::Display for FieldValue {
    /// Renders a value the way RabbitMQ quotes it in error texts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::LongStr(b) | FieldValue::Bytes(b) => {
                write!(f, "{}", String::from_utf8_lossy(b))
            }
            FieldValue::F32(v) => write!(f, "{v}"),
            FieldValue::F64(v) => write!(f, "{v}"),
            FieldValue::Decimal(s, v) => write!(f, "{{{s},{v}}}"),
            FieldValue::Timestamp(t) => write!(f, "{t}"),
            FieldValue::Void => write!(f, "undefined"),
            FieldValue::Array(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            FieldValue::Table(t) => write!(f, "{t}"),
            other => match other.as_i64() {
                Some(v) => write!(f, "{v}"),
                None => write!(f, "?"),
            },
        }
    }
}

/// An AMQP field table. Order is kept as received, because clients see it again
/// in delivered headers; lookups are linear, tables are small.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldTable(pub Vec<(String, FieldValue)>);

impl FieldTable {
    pub fn new() -> Self {
        FieldTable(Vec::new())
    }

    pub fn get(&self, key: &str) -> Option<&FieldValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, replacing an earlier value of the same key in place.
    pub fn insert(&mut self, key: impl Into<String>, value: FieldValue) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<FieldValue> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The table with keys sorted: RabbitMQ compares argument tables this way,
    /// so `{a,b}` and `{b,a}` are the same binding.
    pub fn sorted(&self) -> FieldTable {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        FieldTable(v)
    }
}

impl fmt::Display for FieldTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            write!(f, "{{<<\"{k}\">>,{},{v}}}", v.type_name())?;
        }
        write!(f, "]")
    }
}

impl<K: Into<String>> FromIterator<(K, FieldValue)> for FieldTable {
    fn from_iter<I: IntoIterator<Item = (K, FieldValue)>>(iter: I) -> Self {
        let mut t = FieldTable::new();
        for (k, v) in iter {
            t.insert(k, v);
        }
        t
    }
}

// Field values appear in scenario files and the management API as plain JSON:
// strings, numbers, booleans, objects, arrays, null.
impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Bool(b) => s.serialize_bool(*b),
            FieldValue::F32(v) => s.serialize_f64(*v as f64),
            FieldValue::F64(v) => s.serialize_f64(*v),
            FieldValue::Decimal(scale, v) => s.serialize_f64(*v as f64 / 10f64.powi(*scale as i32)),
            FieldValue::LongStr(b) | FieldValue::Bytes(b) => {
                s.serialize_str(&String::from_utf8_lossy(b))
            }
            FieldValue::Array(items) => items.serialize(s),
            FieldValue::Timestamp(t) => s.serialize_u64(*t),
            FieldValue::Table(t) => t.serialize(s),
            FieldValue::Void => s.serialize_unit(),
            other => s.serialize_i64(other.as_i64().unwrap_or_default()),
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(FieldValue::from_json(&v))
    }
}

impl FieldValue {
    /// Converts plain JSON the way pika converts Python values: small integers
    /// become `I` (signed 32-bit), larger ones `l`, text `S`.
    pub fn from_json(v: &serde_json::Value) -> FieldValue {
        use serde_json::Value;
        match v {
            Value::Null => FieldValue::Void,
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => FieldValue::I32(i as i32),
                Some(i) => FieldValue::I64(i),
                None => FieldValue::F64(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => FieldValue::str(s),
            Value::Array(a) => FieldValue::Array(a.iter().map(FieldValue::from_json).collect()),
            Value::Object(o) => FieldValue::Table(FieldTable(
                o.iter()
                    .map(|(k, v)| (k.clone(), FieldValue::from_json(v)))
                    .collect(),
            )),
        }
    }
}

impl Serialize for FieldTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for FieldTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match FieldValue::from_json(&v) {
            FieldValue::Table(t) => Ok(t),
            FieldValue::Void => Ok(FieldTable::new()),
            _ => Err(serde::de::Error::custom(
                "expected an object of field values",
            )),
        }
    }
}

// In the JSON Schema of scenario files a field value is any JSON value, and a
// field table an object of them (see `FieldValue::from_json`).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for FieldValue {
    fn schema_name() -> String {
        "FieldValue".to_string()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some(
                    "An AMQP field value, written as plain JSON: a string (longstr), an integer \
                     (signed 32-bit if it fits, else 64-bit), a float, a boolean, null (void), \
                     an array or an object (a nested table)."
                        .to_string(),
                ),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for FieldTable {
    fn schema_name() -> String {
        "FieldTable".to_string()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, Metadata, ObjectValidation, SchemaObject};
        SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some(
                    "An AMQP field table (arguments, headers): an object of field values."
                        .to_string(),
                ),
                ..Default::default()
            })),
            instance_type: Some(InstanceType::Object.into()),
            object: Some(Box::new(ObjectValidation {
                additional_properties: Some(Box::new(gen.subschema_for::<FieldValue>())),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

/// The 14 properties of `basic` content, carried intact from publisher to consumer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct BasicProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<FieldTable>,
    /// 1 = transient, 2 = persistent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_mode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Per-message TTL in milliseconds, as a decimal string (AMQP makes it a shortstr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
}

impl BasicProperties {
    /// No property set at all (the encoding is just empty flags).
    pub fn is_empty(&self) -> bool {
        let BasicProperties {
            content_type,
            content_encoding,
            headers,
            delivery_mode,
            priority,
            correlation_id,
            reply_to,
            expiration,
            message_id,
            timestamp,
            kind,
            user_id,
            app_id,
            cluster_id,
        } = self;
        [
            content_type,
            content_encoding,
            correlation_id,
            reply_to,
            expiration,
            message_id,
            kind,
            user_id,
            app_id,
            cluster_id,
        ]
        .iter()
        .all(|s| s.is_none())
            && headers.is_none()
            && delivery_mode.is_none()
            && priority.is_none()
            && timestamp.is_none()
    }

    pub fn is_persistent(&self) -> bool {
        self.delivery_mode == Some(2)
    }

    /// A header value, if the message has headers and that one.
    pub fn header(&self, key: &str) -> Option<&FieldValue> {
        self.headers.as_ref().and_then(|h| h.get(key))
    }
}

pub use crate::message::{Message, MessageHead};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_become_pika_like_integers() {
        let v: FieldValue = serde_json::from_str("5").unwrap();
        assert_eq!(v, FieldValue::I32(5));
        let v: FieldValue = serde_json::from_str("5000000000").unwrap();
        assert_eq!(v, FieldValue::I64(5_000_000_000));
    }

    #[test]
    fn headers_compare_integers_by_value() {
        assert!(FieldValue::I32(3).loosely_equals(&FieldValue::I64(3)));
        assert!(!FieldValue::str("3").loosely_equals(&FieldValue::I64(3)));
    }

    #[test]
    fn table_insert_replaces_in_place() {
        let mut t = FieldTable::new();
        t.insert("a", FieldValue::I32(1));
        t.insert("b", FieldValue::I32(2));
        t.insert("a", FieldValue::I32(3));
        assert_eq!(t.0[0], ("a".to_string(), FieldValue::I32(3)));
        assert_eq!(t.len(), 2);
    }
}
