//! The comparison table: each figure for RabbitMQ and Warren, their ratio, the goal from
//! the server issue and whether it is met.

use std::collections::BTreeMap;

/// What a row's figures must satisfy.
#[derive(Clone, Copy, Debug)]
pub enum Goal {
    /// Warren / RabbitMQ at least this (a rate: higher is better).
    AtLeastTimes(f64),
    /// Warren / RabbitMQ at most this (a cost: lower is better).
    AtMostTimes(f64),
    /// Warren's own figure at most this, in the row's unit.
    WarrenAtMost(f64),
    /// Shown for context only.
    Informational,
}

impl Goal {
    fn text(self, unit: &str) -> String {
        match self {
            Goal::AtLeastTimes(x) => format!("≥ {x}×"),
            Goal::AtMostTimes(x) => format!("≤ {x}×"),
            Goal::WarrenAtMost(x) => format!("Warren ≤ {x} {unit}"),
            Goal::Informational => "—".into(),
        }
    }

    /// Whether the goal is met; `None` for informational rows.
    pub fn met(self, rabbit: f64, warren: f64) -> Option<bool> {
        match self {
            Goal::AtLeastTimes(x) => Some(rabbit > 0.0 && warren / rabbit >= x),
            Goal::AtMostTimes(x) => Some(rabbit > 0.0 && warren / rabbit <= x),
            Goal::WarrenAtMost(x) => Some(warren <= x),
            Goal::Informational => None,
        }
    }
}

/// One line of the table; a figure is `None` when its workload failed.
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub rabbit: Option<f64>,
    pub warren: Option<f64>,
    pub goal: Goal,
}

/// The table in Markdown, so it can go into BENCHMARKS.md as printed.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Workload | RabbitMQ 3.10 | Warren | Warren / RabbitMQ | Goal | Met? |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let figure = |value: Option<f64>| match value {
            Some(v) => format!("{} {}", number(v, row.unit), row.unit),
            None => "failed".into(),
        };
        let (ratio, met) = match (row.rabbit, row.warren) {
            (Some(r), Some(w)) => (
                if r > 0.0 {
                    ratio_text(w / r, row.goal)
                } else {
                    "—".into()
                },
                match row.goal.met(r, w) {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "",
                },
            ),
            _ => (
                "—".into(),
                if matches!(row.goal, Goal::Informational) {
                    ""
                } else {
                    "**no**"
                },
            ),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.name,
            figure(row.rabbit),
            figure(row.warren),
            ratio,
            row.goal.text(row.unit),
            met
        ));
    }
    out
}

/// A ratio to two decimals, or three when two would round it onto the goal's bound
/// and hide which side it is on (2.998× printed as 3.00× beside a "no").
fn ratio_text(ratio: f64, goal: Goal) -> String {
    let two = format!("{ratio:.2}");
    let bound = match goal {
        Goal::AtLeastTimes(x) | Goal::AtMostTimes(x) => Some(x),
        Goal::WarrenAtMost(_) | Goal::Informational => None,
    };
    let on_bound = bound.is_some_and(|x| format!("{x:.2}") == two && ratio != x);
    if on_bound {
        format!("{ratio:.3}×")
    } else {
        format!("{two}×")
    }
}

/// A number with a precision that suits its size: `64,123`, `2.91`, `0.42`.
fn number(value: f64, unit: &str) -> String {
    if unit == "msg/s" || value >= 1000.0 {
        let whole = value.round() as u64;
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        grouped
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Reads the load generator's final line, `result workload=NAME key=value ...`.
pub fn parse_result(line: &str) -> Option<BTreeMap<String, String>> {
    let rest = line.strip_prefix("result ")?;
    Some(
        rest.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_that_rounds_onto_its_bound_gets_a_third_decimal() {
        assert_eq!(ratio_text(2.998, Goal::AtLeastTimes(3.0)), "2.998×");
        assert_eq!(ratio_text(0.5039, Goal::AtMostTimes(0.5)), "0.504×");
        assert_eq!(ratio_text(3.0, Goal::AtLeastTimes(3.0)), "3.00×");
        assert_eq!(ratio_text(3.43, Goal::AtLeastTimes(3.0)), "3.43×");
        assert_eq!(ratio_text(2.998, Goal::Informational), "3.00×");
    }

    #[test]
    fn goals_compare_the_right_way_round() {
        assert_eq!(Goal::AtLeastTimes(3.0).met(64_000.0, 200_000.0), Some(true));
        assert_eq!(
            Goal::AtLeastTimes(3.0).met(64_000.0, 190_000.0),
            Some(false)
        );
        assert_eq!(Goal::AtMostTimes(0.5).met(2.9, 1.4), Some(true));
        assert_eq!(Goal::AtMostTimes(0.1).met(1800.0, 200.0), Some(false));
        assert_eq!(Goal::WarrenAtMost(50.0).met(5600.0, 12.0), Some(true));
        assert_eq!(Goal::AtLeastTimes(3.0).met(0.0, 1.0), Some(false));
        assert_eq!(Goal::Informational.met(1.0, 2.0), None);
    }

    #[test]
    fn reads_result_lines_only() {
        let fields = parse_result("result workload=latency p99_us=2900 sent=10").unwrap();
        assert_eq!(fields["p99_us"], "2900");
        assert_eq!(fields.len(), 3);
        assert!(parse_result("latency: p99 2900 µs").is_none());
    }

    #[test]
    fn the_table_shows_ratio_and_verdict() {
        let rows = [
            Row {
                name: "16 B transient".into(),
                unit: "msg/s",
                rabbit: Some(64_000.0),
                warren: Some(256_500.0),
                goal: Goal::AtLeastTimes(3.0),
            },
            Row {
                name: "startup".into(),
                unit: "ms",
                rabbit: Some(5600.0),
                warren: None,
                goal: Goal::WarrenAtMost(50.0),
            },
        ];
        let text = table(&rows);
        assert!(
            text.contains("| 16 B transient | 64,000 msg/s | 256,500 msg/s | 4.01× | ≥ 3× | yes |")
        );
        assert!(text.contains("| startup | 5,600 ms | failed | — | Warren ≤ 50 ms | **no** |"));
    }
}
