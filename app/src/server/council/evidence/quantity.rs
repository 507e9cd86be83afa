//! Numbers with units, as people write them in a stated fact: `2.5%`, `850 ms`, `1.2s`,
//! `$12k`, `€40k`, `$2,000/month`, `14 per week`, `0.02 % rows`, or a bare number.

use serde_json::Value;

/// What a number measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// A bare number (a count, a ratio, a size).
    Plain,
    /// A percentage (`7%` is 7.0).
    Percent,
    /// A duration, in seconds (`850 ms` is 0.85).
    Seconds,
    /// Money in a currency (`$`, `€`, `£`, or a code such as `usd`).
    Money(&'static str),
}

/// How often, for a rate (`$300/month`, `14 per week`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Per day.
    Day,
    /// Per week.
    Week,
    /// Per month.
    Month,
    /// Per year.
    Year,
}

impl Period {
    /// How many of this period make a month (to compare rates).
    pub fn per_month(self) -> f64 {
        match self {
            Period::Day => 30.0,
            Period::Week => 52.0 / 12.0,
            Period::Month => 1.0,
            Period::Year => 1.0 / 12.0,
        }
    }
}

/// A number, its unit and its period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    /// The value in the unit's base (seconds for durations, whole currency units for money).
    pub value: f64,
    /// What it measures.
    pub unit: Unit,
    /// Per what, for a rate.
    pub per: Option<Period>,
}

impl Quantity {
    /// The value per month, for a rate (the value itself otherwise).
    pub fn monthly(&self) -> f64 {
        self.per.map_or(self.value, |p| self.value * p.per_month())
    }
}

const CURRENCIES: [(&str, &str); 8] = [
    ("$", "$"),
    ("€", "€"),
    ("£", "£"),
    ("usd", "$"),
    ("eur", "€"),
    ("gbp", "£"),
    ("dollar", "$"),
    ("euro", "€"),
];

/// Reads a fact's value as a quantity, when it holds a number.
pub fn parse(v: &Value) -> Option<Quantity> {
    match v {
        Value::Number(n) => n.as_f64().map(|value| Quantity {
            value,
            unit: Unit::Plain,
            per: None,
        }),
        Value::String(s) => parse_text(s),
        _ => None,
    }
    .filter(|q| q.value.is_finite())
}

/// Reads a text such as `$2,000/month` or `1.2 s` (a date is not a quantity: see [`date`]).
pub fn parse_text(text: &str) -> Option<Quantity> {
    if date(text).is_some() {
        return None;
    }
    let t = text.trim().to_lowercase();
    let start = t.find(|c: char| c.is_ascii_digit())?;
    // A minus sign before the number (or before its currency sign) counts.
    let before = t[..start].trim_end();
    let bare = CURRENCIES
        .iter()
        .find_map(|(sign, _)| before.strip_suffix(sign))
        .unwrap_or(before)
        .trim_end();
    let negative = bare.ends_with('-');
    let before = before.trim_end_matches('-').trim();
    let rest = &t[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(rest.len());
    let digits: String = rest[..end].chars().filter(|c| *c != ',').collect();
    let mut value: f64 = digits.trim_end_matches('.').parse().ok()?;
    if negative {
        value = -value;
    }
    let after = rest[end..].trim_start();
    let mut currency = CURRENCIES
        .iter()
        .find(|(sign, _)| before.ends_with(sign))
        .map(|(_, c)| *c);
    // A multiplier: 12k, 2 million, and 1.5m for money only (`5 m` alone is no million).
    let money_after = CURRENCIES
        .iter()
        .any(|(name, _)| name.len() > 1 && after.contains(name));
    let (multiplier, after) = if currency.is_none()
        && !money_after
        && after.starts_with('m')
        && !after.starts_with("million")
    {
        (1.0, after)
    } else {
        multiplier(after)
    };
    value *= multiplier;
    let (unit_word, tail) = split_word(after);
    let mut unit = Unit::Plain;
    match unit_word {
        "%" | "percent" | "pct" => unit = Unit::Percent,
        "ms" | "msec" | "millisecond" | "milliseconds" => {
            unit = Unit::Seconds;
            value /= 1000.0;
        }
        "µs" | "μs" | "us" | "microseconds" => {
            unit = Unit::Seconds;
            value /= 1_000_000.0;
        }
        "s" | "sec" | "secs" | "second" | "seconds" => unit = Unit::Seconds,
        "min" | "mins" | "minute" | "minutes" => {
            unit = Unit::Seconds;
            value *= 60.0;
        }
        "h" | "hr" | "hrs" | "hour" | "hours" => {
            unit = Unit::Seconds;
            value *= 3600.0;
        }
        "d" | "day" | "days" => {
            unit = Unit::Seconds;
            value *= 86_400.0;
        }
        "w" | "wk" | "week" | "weeks" => {
            unit = Unit::Seconds;
            value *= 7.0 * 86_400.0;
        }
        w => {
            if let Some((_, c)) = CURRENCIES.iter().find(|(name, _)| w.starts_with(name)) {
                currency = Some(c);
            }
        }
    }
    if let Some(c) = currency {
        unit = Unit::Money(c);
    }
    // The period follows the unit (`$300/month`, `$300 per month`), or is the word itself
    // (`$500 monthly`, `14/week`).
    let per = period(if unit_word.starts_with('/') {
        after
    } else {
        tail
    })
    .or_else(|| period(unit_word));
    Some(Quantity { value, unit, per }).filter(|q| q.value.is_finite())
}

/// A calendar date written `2026-12-24`.
pub fn date(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// `k`, `m`, `thousand`, `million` right after the number.
fn multiplier(after: &str) -> (f64, &str) {
    for (word, m) in [
        ("thousand", 1e3),
        ("million", 1e6),
        ("billion", 1e9),
        ("k", 1e3),
        ("m", 1e6),
        ("bn", 1e9),
    ] {
        if let Some(rest) = after.strip_prefix(word) {
            // `m` followed by a letter is a unit (`ms`, `min`, `month`), not a million.
            if rest.chars().next().is_none_or(|c| !c.is_alphabetic()) {
                return (m, rest.trim_start());
            }
        }
    }
    (1.0, after)
}

/// The first word (or `%`, or a `/period`) and what follows it.
fn split_word(s: &str) -> (&str, &str) {
    if let Some(rest) = s.strip_prefix('%') {
        return ("%", rest.trim_start());
    }
    if s.starts_with('/') {
        return ("/", s);
    }
    let end = s
        .find(|c: char| !(c.is_alphabetic() || c == 'µ' || c == 'μ'))
        .unwrap_or(s.len());
    (&s[..end], s[end..].trim_start())
}

/// `/month`, `per week`, `a year`, `monthly`.
fn period(s: &str) -> Option<Period> {
    let s = s.trim_start();
    let word = s
        .strip_prefix('/')
        .or_else(|| s.strip_prefix("per "))
        .or_else(|| s.strip_prefix("a "))
        .or_else(|| s.strip_prefix("an "))
        .unwrap_or(s)
        .trim_start();
    [
        ("day", Period::Day),
        ("daily", Period::Day),
        ("d", Period::Day),
        ("week", Period::Week),
        ("weekly", Period::Week),
        ("wk", Period::Week),
        ("w", Period::Week),
        ("month", Period::Month),
        ("monthly", Period::Month),
        ("mo", Period::Month),
        ("year", Period::Year),
        ("yearly", Period::Year),
        ("annual", Period::Year),
        ("yr", Period::Year),
        ("y", Period::Year),
    ]
    .iter()
    .find(|(w, _)| {
        word.strip_prefix(w)
            .is_some_and(|r| r.chars().next().is_none_or(|c| !c.is_alphabetic()))
    })
    .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Option<(f64, Unit, Option<Period>)> {
        parse_text(s).map(|q| ((q.value * 1e6).round() / 1e6, q.unit, q.per))
    }

    #[test]
    fn numbers_are_read_with_their_units_as_people_write_them() {
        assert_eq!(q("7%"), Some((7.0, Unit::Percent, None)));
        assert_eq!(q("38 %"), Some((38.0, Unit::Percent, None)));
        assert_eq!(q("0.02 % rows"), Some((0.02, Unit::Percent, None)));
        assert_eq!(q("850 ms"), Some((0.85, Unit::Seconds, None)));
        assert_eq!(q("500ms"), Some((0.5, Unit::Seconds, None)));
        assert_eq!(q("1.2s"), Some((1.2, Unit::Seconds, None)));
        assert_eq!(q("4 s"), Some((4.0, Unit::Seconds, None)));
        assert_eq!(q("2 days"), Some((172_800.0, Unit::Seconds, None)));
        assert_eq!(q("$12k"), Some((12_000.0, Unit::Money("$"), None)));
        assert_eq!(q("€40k"), Some((40_000.0, Unit::Money("€"), None)));
        assert_eq!(
            q("$2,000/month"),
            Some((2_000.0, Unit::Money("$"), Some(Period::Month)))
        );
        assert_eq!(
            q("$300 per month"),
            Some((300.0, Unit::Money("$"), Some(Period::Month)))
        );
        assert_eq!(
            q("1.5m usd a year"),
            Some((1_500_000.0, Unit::Money("$"), Some(Period::Year)))
        );
        assert_eq!(q("14/week"), Some((14.0, Unit::Plain, Some(Period::Week))));
        assert_eq!(q("99.2%"), Some((99.2, Unit::Percent, None)));
        assert_eq!(q("-3"), Some((-3.0, Unit::Plain, None)));
        assert_eq!(q("-$500"), Some((-500.0, Unit::Money("$"), None)));
        assert_eq!(
            q("$500 monthly"),
            Some((500.0, Unit::Money("$"), Some(Period::Month)))
        );
        assert_eq!(q("5 m").map(|x| x.0), Some(5.0), "not a million");
        assert_eq!(q("NaN"), None);
        assert_eq!(q("high"), None);
        assert_eq!(q("2026-12-24"), None, "a date");
        assert!(date("2026-12-24").is_some());
        assert_eq!(
            parse(&Value::from(12)).map(|q| q.value),
            Some(12.0),
            "a JSON number"
        );
    }
}
