//! Headers exchange matching: `x-match` = `all` (the default), `any`,
//! `all-with-x`, `any-with-x`. Binding arguments starting with `x-` are ignored
//! by `all`/`any` and taken into account by the `-with-x` forms. A binding value
//! of type void only asks for the header to be present. Values are compared by
//! [`values_match`], which follows RabbitMQ rather than the AMQP type tags.

use crate::types::{FieldTable, FieldValue};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XMatch {
    All,
    Any,
    AllWithX,
    AnyWithX,
}

impl XMatch {
    /// Reads `x-match` from binding arguments; `None` for an invalid value.
    pub fn from_args(args: &FieldTable) -> Option<XMatch> {
        match args.get("x-match") {
            None => Some(XMatch::All),
            Some(v) => match v.as_str()? {
                "all" => Some(XMatch::All),
                "any" => Some(XMatch::Any),
                "all-with-x" => Some(XMatch::AllWithX),
                "any-with-x" => Some(XMatch::AnyWithX),
                _ => None,
            },
        }
    }
}

/// Whether message `headers` satisfy binding `args`.
pub fn headers_match(args: &FieldTable, headers: Option<&FieldTable>) -> bool {
    let mode = XMatch::from_args(args).unwrap_or(XMatch::All);
    let with_x = matches!(mode, XMatch::AllWithX | XMatch::AnyWithX);
    let wanted = args
        .iter()
        .filter(|(k, _)| *k != "x-match" && (with_x || !k.starts_with("x-")));
    let empty = FieldTable::new();
    let headers = headers.unwrap_or(&empty);
    let one = |(k, v): (&str, &FieldValue)| match headers.get(k) {
        None => false,
        Some(_) if *v == FieldValue::Void => true,
        Some(h) => values_match(v, h),
    };
    match mode {
        XMatch::All | XMatch::AllWithX => wanted.into_iter().all(one),
        XMatch::Any | XMatch::AnyWithX => wanted.into_iter().any(one),
    }
}

/// Whether a binding's value and a message header's value are equal the way
/// RabbitMQ 3.10's headers exchange compares them: it compares the decoded
/// values and drops their AMQP types (Erlang's `==`), so every integer width,
/// timestamps and both float widths compare as numbers (`1`, `1.0` and a
/// timestamp of 1 are all equal), and a long string equals a byte array with
/// the same bytes. Booleans, decimals (scale and digits), arrays and tables
/// compare exactly, types inside them included. Checked value by value
/// against RabbitMQ 3.10, type against type.
pub fn values_match(binding: &FieldValue, header: &FieldValue) -> bool {
    use FieldValue::{Bytes, LongStr};
    match (Number::of(binding), Number::of(header)) {
        (Some(a), Some(b)) => a.equals(b),
        (Some(_), None) | (None, Some(_)) => false,
        (None, None) => match (binding, header) {
            (LongStr(a) | Bytes(a), LongStr(b) | Bytes(b)) => a == b,
            _ => binding == header,
        },
    }
}

/// A header value that RabbitMQ compares as a number.
#[derive(Clone, Copy)]
enum Number {
    /// Any integer width, and timestamps (`u64` fits in `i128`).
    Int(i128),
    Float(f64),
}

impl Number {
    fn of(v: &FieldValue) -> Option<Number> {
        Some(match *v {
            FieldValue::Timestamp(t) => Number::Int(i128::from(t)),
            FieldValue::F32(f) => Number::Float(f64::from(f)),
            FieldValue::F64(f) => Number::Float(f),
            ref other => Number::Int(i128::from(other.as_i64()?)),
        })
    }

    /// Mathematical equality: an integer equals a float only when the float
    /// is that whole number.
    fn equals(self, other: Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b,
            (Number::Int(i), Number::Float(f)) | (Number::Float(f), Number::Int(i)) => {
                f.is_finite() && f.fract() == 0.0 && f.abs() < 2f64.powi(100) && f as i128 == i
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn numbers_match_by_value_whatever_their_type() {
        let ones = [
            FieldValue::I8(1),
            FieldValue::U8(1),
            FieldValue::I16(1),
            FieldValue::U16(1),
            FieldValue::I32(1),
            FieldValue::U32(1),
            FieldValue::I64(1),
            FieldValue::F32(1.0),
            FieldValue::F64(1.0),
            FieldValue::Timestamp(1),
        ];
        for a in &ones {
            for b in &ones {
                assert!(values_match(a, b), "{a:?} should match {b:?}");
            }
        }
        assert!(values_match(&FieldValue::F32(1.5), &FieldValue::F64(1.5)));
        assert!(!values_match(&FieldValue::I32(1), &FieldValue::F64(1.5)));
        assert!(!values_match(&FieldValue::I32(2), &FieldValue::F64(1.0)));
        assert!(!values_match(
            &FieldValue::I64(i64::MAX),
            &FieldValue::F64(f64::INFINITY)
        ));
        assert!(values_match(
            &FieldValue::Timestamp(u64::MAX),
            &FieldValue::Timestamp(u64::MAX)
        ));
        assert!(!values_match(
            &FieldValue::Timestamp(u64::MAX),
            &FieldValue::I64(-1)
        ));
    }

    #[test]
    fn text_matches_bytes_but_not_numbers_booleans_or_decimals() {
        let text = FieldValue::str("1");
        let bytes = FieldValue::Bytes(Bytes::from_static(b"1"));
        assert!(values_match(&text, &bytes));
        assert!(values_match(&bytes, &text));
        assert!(!values_match(&text, &FieldValue::I32(1)));
        assert!(!values_match(&FieldValue::Bool(true), &FieldValue::I32(1)));
        assert!(values_match(
            &FieldValue::Bool(true),
            &FieldValue::Bool(true)
        ));
        // RabbitMQ keeps a decimal as (scale, digits): 1 and 1.0 differ there.
        assert!(values_match(
            &FieldValue::Decimal(0, 1),
            &FieldValue::Decimal(0, 1)
        ));
        assert!(!values_match(
            &FieldValue::Decimal(0, 1),
            &FieldValue::Decimal(1, 10)
        ));
        assert!(!values_match(
            &FieldValue::Decimal(0, 1),
            &FieldValue::I32(1)
        ));
    }

    #[test]
    fn arrays_and_tables_keep_the_types_inside_them() {
        let byte_one = FieldValue::Array(vec![FieldValue::I8(1)]);
        let int_one = FieldValue::Array(vec![FieldValue::I32(1)]);
        assert!(values_match(&byte_one, &byte_one.clone()));
        assert!(!values_match(&byte_one, &int_one));
        let table = |v: FieldValue| FieldValue::Table([("k", v)].into_iter().collect());
        assert!(!values_match(
            &table(FieldValue::I8(1)),
            &table(FieldValue::I32(1))
        ));
        assert!(values_match(
            &table(FieldValue::I32(1)),
            &table(FieldValue::I32(1))
        ));
    }

    #[test]
    fn a_binding_on_a_number_takes_any_width_and_floats() {
        let mut args = t(&[("x-match", "all")]);
        args.insert("version", FieldValue::I32(2));
        let with = |v: FieldValue| -> FieldTable { [("version", v)].into_iter().collect() };
        assert!(headers_match(&args, Some(&with(FieldValue::F64(2.0)))));
        assert!(headers_match(&args, Some(&with(FieldValue::U8(2)))));
        assert!(!headers_match(&args, Some(&with(FieldValue::F64(2.5)))));
        assert!(!headers_match(&args, Some(&with(FieldValue::str("2")))));
    }

    fn t(pairs: &[(&str, &str)]) -> FieldTable {
        pairs
            .iter()
            .map(|(k, v)| (*k, FieldValue::str(v)))
            .collect()
    }

    #[test]
    fn all_and_any() {
        let all = t(&[("x-match", "all"), ("format", "pdf"), ("type", "report")]);
        let any = t(&[("x-match", "any"), ("format", "pdf"), ("type", "report")]);
        let both = t(&[("format", "pdf"), ("type", "report")]);
        let one = t(&[("format", "pdf")]);
        let other = t(&[("type", "log")]);
        assert!(headers_match(&all, Some(&both)));
        assert!(!headers_match(&all, Some(&one)));
        assert!(headers_match(&any, Some(&one)));
        assert!(!headers_match(&any, Some(&other)));
        assert!(!headers_match(&any, None));
    }

    #[test]
    fn x_headers_only_count_with_x() {
        let all = t(&[("x-match", "all"), ("x-k", "1")]);
        let allx = t(&[("x-match", "all-with-x"), ("x-k", "1")]);
        let h = t(&[("x-k", "2")]);
        assert!(headers_match(&all, Some(&h)), "x- args are ignored by all");
        assert!(!headers_match(&allx, Some(&h)));
        assert!(headers_match(&allx, Some(&t(&[("x-k", "1")]))));
        let anyx = t(&[("x-match", "any-with-x"), ("x-k", "1")]);
        assert!(headers_match(&anyx, Some(&t(&[("x-k", "1")]))));
    }

    #[test]
    fn void_means_present() {
        let mut args = t(&[("x-match", "all")]);
        args.insert("k", FieldValue::Void);
        assert!(headers_match(&args, Some(&t(&[("k", "anything")]))));
        assert!(!headers_match(&args, Some(&t(&[("j", "x")]))));
    }

    #[test]
    fn empty_all_matches_everything_empty_any_nothing() {
        assert!(headers_match(&t(&[]), None));
        assert!(!headers_match(&t(&[("x-match", "any")]), None));
    }
}
