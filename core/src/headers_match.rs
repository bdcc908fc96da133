//! Headers exchange matching: `x-match` = `all` (the default), `any`,
//! `all-with-x`, `any-with-x`. Binding arguments starting with `x-` are ignored
//! by `all`/`any` and taken into account by the `-with-x` forms. A binding value
//! of type void only asks for the header to be present.

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
        Some(h) => h.loosely_equals(v),
    };
    match mode {
        XMatch::All | XMatch::AllWithX => wanted.into_iter().all(one),
        XMatch::Any | XMatch::AnyWithX => wanted.into_iter().any(one),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
