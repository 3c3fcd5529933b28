//! Change-freeze windows (`freeze:` in `.kustodian.yaml`): absolute (`from`/`to`, RFC 3339) or
//! recurring weekly in an IANA time zone, each protecting stages, environments or paths.
//! Evaluated with jiff and its bundled tz database, so a CI image without /usr/share/zoneinfo
//! judges "Friday 16:00 Europe/Berlin" the same as a laptop.

use schemars::JsonSchema;
use serde::Deserialize;

use super::stage::Stage;

/// A change-freeze window: absolute (`from`/`to`, RFC 3339) or recurring weekly.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FreezeWindow {
    /// A name shown in findings (e.g. `weekend`, `black-friday`).
    pub name: String,
    /// Start, RFC 3339 (`2026-11-27T00:00:00+01:00`).
    pub from: Option<String>,
    /// End, RFC 3339.
    pub to: Option<String>,
    /// A window that repeats every week.
    pub weekly: Option<WeeklyWindow>,
    /// Stages protected (default: all, unless `environments` or `paths` are given).
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Environment names protected.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Path globs protected (repository-relative).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// A weekly window: `from: "Fri 16:00"`, `to: "Mon 08:00"`, `timezone: Europe/Berlin`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WeeklyWindow {
    /// Day and time the window opens (`Mon`..`Sun` and `HH:MM`).
    pub from: String,
    /// Day and time the window closes.
    pub to: String,
    /// IANA time zone (default `UTC`).
    pub timezone: Option<String>,
}

/// Minutes since Monday 00:00 of `"Fri 16:00"`.
pub fn week_minute(s: &str) -> Result<i64, String> {
    let (day, time) = s
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("'{s}': expected a day and a time, e.g. \"Fri 16:00\""))?;
    let d = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|x| day.to_ascii_lowercase().starts_with(x))
        .ok_or_else(|| format!("'{day}': expected a day Mon..Sun"))? as i64;
    let (h, m) = time
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("'{time}': expected HH:MM"))?;
    let (h, m): (i64, i64) = (
        h.parse().map_err(|_| format!("'{time}': expected HH:MM"))?,
        m.parse().map_err(|_| format!("'{time}': expected HH:MM"))?,
    );
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(format!("'{time}': not a time of day"));
    }
    Ok(d * 24 * 60 + h * 60 + m)
}

impl FreezeWindow {
    /// Checks the window's times; every problem is returned with the field it is about.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errs = Vec::new();
        let name = &self.name;
        match (&self.from, &self.to, &self.weekly) {
            (Some(a), Some(b), None) => {
                let mut times = Vec::new();
                for (field, t) in [("from", a), ("to", b)] {
                    match t.parse::<jiff::Timestamp>() {
                        Ok(ts) => times.push(ts),
                        Err(_) => errs.push((
                            field,
                            format!("freeze '{name}': '{t}' is not an RFC 3339 time"),
                        )),
                    }
                }
                if let [from, to] = times[..]
                    && to <= from
                {
                    errs.push((
                        "to",
                        format!(
                            "freeze '{name}': `to` ({b}) is not after `from` ({a}): the window \
                             would never be open"
                        ),
                    ));
                }
            }
            (None, None, Some(w)) => {
                let mut minutes = Vec::new();
                for (field, t) in [("from", &w.from), ("to", &w.to)] {
                    match week_minute(t) {
                        Ok(m) => minutes.push(m),
                        Err(e) => errs.push((field, format!("freeze '{name}': {e}"))),
                    }
                }
                // `to` before `from` is a window across the week's end; only an equal pair
                // is never open.
                if let [from, to] = minutes[..]
                    && from == to
                {
                    errs.push((
                        "to",
                        format!(
                            "freeze '{name}': weekly `to` equals `from`: the window would never \
                             be open"
                        ),
                    ));
                }
                if let Some(tz) = &w.timezone
                    && jiff::tz::TimeZone::get(tz).is_err()
                {
                    errs.push((
                        "timezone",
                        format!("freeze '{name}': unknown time zone '{tz}'"),
                    ));
                }
            }
            _ => errs.push((
                "name",
                format!("freeze '{name}': give either `from` and `to` (RFC 3339) or `weekly`"),
            )),
        }
        errs
    }

    /// Is the window open at `now`?
    pub fn active(&self, now: jiff::Timestamp) -> bool {
        if let (Some(a), Some(b)) = (&self.from, &self.to) {
            return match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
                (Ok(a), Ok(b)) => a <= now && now < b,
                _ => false,
            };
        }
        let Some(w) = &self.weekly else { return false };
        let tz = w
            .timezone
            .as_deref()
            .and_then(|t| jiff::tz::TimeZone::get(t).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let local = now.to_zoned(tz);
        let t = i64::from(local.weekday().to_monday_zero_offset()) * 24 * 60
            + i64::from(local.hour()) * 60
            + i64::from(local.minute());
        let (Ok(from), Ok(to)) = (week_minute(&w.from), week_minute(&w.to)) else {
            return false;
        };
        if from <= to {
            from <= t && t < to
        } else {
            t >= from || t < to
        }
    }
}
