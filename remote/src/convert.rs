//! Converting between warren-core's AMQP types and amqprs's, so what a real
//! broker delivers is recorded as the same `Observation` the simulator makes.

use amqprs::{
    BasicProperties as WireProps, ByteArray, FieldArray, FieldTable as WireTable,
    FieldValue as WireValue, LongStr, ShortStr,
};
use warren_core::types::{BasicProperties, FieldTable, FieldValue};

/// Names longer than 255 bytes cannot be sent as an AMQP short string (amqprs
/// would panic on them): refuse them with an error instead.
pub fn short(s: &str) -> Result<ShortStr, String> {
    ShortStr::try_from(s).map_err(|_| format!("'{s}' is longer than 255 bytes"))
}

pub fn table_to_wire(t: &FieldTable) -> Result<WireTable, String> {
    let mut out = WireTable::new();
    for (k, v) in t.iter() {
        out.insert(short(k)?, value_to_wire(v)?);
    }
    Ok(out)
}

fn value_to_wire(v: &FieldValue) -> Result<WireValue, String> {
    Ok(match v {
        FieldValue::Bool(b) => WireValue::t(*b),
        FieldValue::I8(x) => WireValue::b(*x),
        FieldValue::U8(x) => WireValue::B(*x),
        FieldValue::I16(x) => WireValue::s(*x),
        FieldValue::U16(x) => WireValue::u(*x),
        FieldValue::I32(x) => WireValue::I(*x),
        FieldValue::U32(x) => WireValue::i(*x),
        FieldValue::I64(x) => WireValue::l(*x),
        FieldValue::F32(x) => WireValue::f(*x),
        FieldValue::F64(x) => WireValue::d(*x),
        FieldValue::Decimal(scale, x) => WireValue::D(amqprs::DecimalValue::new(*scale, *x as i32)),
        FieldValue::LongStr(b) => WireValue::S(
            LongStr::try_from(String::from_utf8_lossy(b).to_string())
                .map_err(|_| "a string value is too long".to_string())?,
        ),
        FieldValue::Array(items) => WireValue::A(
            FieldArray::try_from(
                items
                    .iter()
                    .map(value_to_wire)
                    .collect::<Result<Vec<_>, _>>()?,
            )
            .map_err(|_| "an array is too long".to_string())?,
        ),
        FieldValue::Timestamp(t) => WireValue::T(*t),
        FieldValue::Table(t) => WireValue::F(table_to_wire(t)?),
        FieldValue::Void => WireValue::V,
        FieldValue::Bytes(b) => WireValue::x(
            ByteArray::try_from(b.to_vec()).map_err(|_| "a byte array is too long".to_string())?,
        ),
    })
}

/// amqprs keeps tables in a hash map, so key order is lost; sort keys to
/// make the result (and so a diff) stable.
pub fn table_from_wire(t: &WireTable) -> FieldTable {
    let mut entries: Vec<(String, FieldValue)> = t
        .as_ref()
        .iter()
        .map(|(k, v)| (k.to_string(), value_from_wire(v)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    FieldTable(entries)
}

fn value_from_wire(v: &WireValue) -> FieldValue {
    match v {
        WireValue::t(b) => FieldValue::Bool(*b),
        WireValue::b(x) => FieldValue::I8(*x),
        WireValue::B(x) => FieldValue::U8(*x),
        WireValue::s(x) => FieldValue::I16(*x),
        WireValue::u(x) => FieldValue::U16(*x),
        WireValue::I(x) => FieldValue::I32(*x),
        WireValue::i(x) => FieldValue::U32(*x),
        WireValue::l(x) => FieldValue::I64(*x),
        WireValue::f(x) => FieldValue::F32(*x),
        WireValue::d(x) => FieldValue::F64(*x),
        // amqprs keeps a decimal's parts private; its serde form is (scale, value).
        WireValue::D(d) => match serde_json::to_value(d) {
            Ok(serde_json::Value::Array(parts)) if parts.len() == 2 => FieldValue::Decimal(
                parts[0].as_u64().unwrap_or(0) as u8,
                parts[1].as_i64().unwrap_or(0) as u32,
            ),
            _ => FieldValue::Void,
        },
        WireValue::S(s) => FieldValue::str(s.as_ref()),
        WireValue::A(a) => FieldValue::Array(
            Vec::<WireValue>::from(a.clone())
                .iter()
                .map(value_from_wire)
                .collect(),
        ),
        WireValue::T(t) => FieldValue::Timestamp(*t),
        WireValue::F(t) => FieldValue::Table(table_from_wire(t)),
        WireValue::V => FieldValue::Void,
        WireValue::x(b) => FieldValue::Bytes(Vec::<u8>::from(b.clone()).into()),
    }
}

pub fn props_to_wire(p: &BasicProperties) -> Result<WireProps, String> {
    let mut w = WireProps::default();
    if let Some(v) = &p.content_type {
        w.with_content_type(v);
    }
    if let Some(v) = &p.content_encoding {
        w.with_content_encoding(v);
    }
    if let Some(v) = &p.headers {
        w.with_headers(table_to_wire(v)?);
    }
    if let Some(v) = p.delivery_mode {
        w.with_delivery_mode(v);
    }
    if let Some(v) = p.priority {
        w.with_priority(v);
    }
    for (value, what) in [
        (&p.correlation_id, "correlation_id"),
        (&p.reply_to, "reply_to"),
        (&p.expiration, "expiration"),
        (&p.message_id, "message_id"),
        (&p.kind, "type"),
        (&p.user_id, "user_id"),
        (&p.app_id, "app_id"),
        (&p.cluster_id, "cluster_id"),
    ] {
        if let Some(v) = value {
            short(v).map_err(|e| format!("property {what}: {e}"))?;
        }
    }
    if let Some(v) = &p.correlation_id {
        w.with_correlation_id(v);
    }
    if let Some(v) = &p.reply_to {
        w.with_reply_to(v);
    }
    if let Some(v) = &p.expiration {
        w.with_expiration(v);
    }
    if let Some(v) = &p.message_id {
        w.with_message_id(v);
    }
    if let Some(v) = p.timestamp {
        w.with_timestamp(v);
    }
    if let Some(v) = &p.kind {
        w.with_message_type(v);
    }
    if let Some(v) = &p.user_id {
        w.with_user_id(v);
    }
    if let Some(v) = &p.app_id {
        w.with_app_id(v);
    }
    if let Some(v) = &p.cluster_id {
        w.with_cluster_id(v);
    }
    Ok(w.finish())
}

pub fn props_from_wire(w: &WireProps) -> BasicProperties {
    BasicProperties {
        content_type: w.content_type().cloned(),
        content_encoding: w.content_encoding().cloned(),
        headers: w.headers().map(table_from_wire),
        delivery_mode: w.delivery_mode(),
        priority: w.priority(),
        correlation_id: w.correlation_id().cloned(),
        reply_to: w.reply_to().cloned(),
        expiration: w.expiration().cloned(),
        message_id: w.message_id().cloned(),
        timestamp: w.timestamp(),
        kind: w.message_type().cloned(),
        user_id: w.user_id().cloned(),
        app_id: w.app_id().cloned(),
        cluster_id: w.cluster_id().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_survive_the_round_trip() {
        let json = serde_json::json!({"b": 1, "a": {"x": ["y", 5000000000i64, true, null]}});
        let FieldValue::Table(t) = FieldValue::from_json(&json) else {
            panic!("not a table")
        };
        let back = table_from_wire(&table_to_wire(&t).expect("converts"));
        assert_eq!(back, t.sorted());
    }

    #[test]
    fn overlong_names_are_errors_not_panics() {
        assert!(short(&"x".repeat(256)).is_err());
    }
}
