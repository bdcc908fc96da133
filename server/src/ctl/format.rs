//! Output as rabbitmqctl prints it: info lines, then a header row and
//! tab-separated rows (values in Erlang-ish notation: `true`, `[]`,
//! `[administrator]`), or with `--formatter json` a JSON array of objects,
//! one per line, as rabbitmqctl's JSON formatter writes it.

use serde_json::{Map, Value};

/// A value as rabbitmqctl's table formatter shows it.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(cell).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "[{}]",
            m.iter()
                .map(|(k, v)| format!("{{{k}, {}}}", cell(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Picks `columns` from each row (missing ones are null).
pub fn select(rows: &[Value], columns: &[String]) -> Vec<Map<String, Value>> {
    rows.iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| (c.clone(), r.get(c).cloned().unwrap_or(Value::Null)))
                .collect()
        })
        .collect()
}

/// The table (header row, tab-separated rows) or the JSON form.
pub fn render(rows: &[Map<String, Value>], columns: &[String], json: bool) -> String {
    let mut out = String::new();
    if json {
        out.push_str("[\n");
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Keys in column order (a JSON map would sort them).
            let fields: Vec<String> = columns
                .iter()
                .map(|c| {
                    format!(
                        "{}:{}",
                        Value::String(c.clone()),
                        r.get(c).unwrap_or(&Value::Null)
                    )
                })
                .collect();
            out.push('{');
            out.push_str(&fields.join(","));
            out.push_str("}\n");
        }
        out.push_str("]\n");
        return out;
    }
    out.push_str(&columns.join("\t"));
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| cell(r.get(c).unwrap_or(&Value::Null)))
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_are_tab_separated_under_a_header() {
        let rows = vec![json!({"name": "q", "messages": 3, "durable": true})];
        let cols = vec!["name".to_string(), "messages".to_string()];
        let t = render(&select(&rows, &cols), &cols, false);
        assert_eq!(t, "name\tmessages\nq\t3\n");
        let j = render(&select(&rows, &cols), &cols, true);
        assert_eq!(j, "[\n{\"name\":\"q\",\"messages\":3}\n]\n");
        assert_eq!(cell(&json!(["administrator"])), "[administrator]");
        assert_eq!(cell(&json!({})), "[]");
    }
}
