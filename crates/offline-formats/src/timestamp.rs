//! RFC 3339 UTC timestamps as written in every document (`2026-01-31T12:00:00Z`).

use crate::FormatError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats seconds since the Unix epoch as RFC 3339 UTC with second precision.
pub fn format_unix(seconds: i64) -> Result<String, FormatError> {
    let when = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| {
        FormatError::InvalidTimestamp {
            value: seconds.to_string(),
        }
    })?;
    when.format(&Rfc3339)
        .map_err(|_| FormatError::InvalidTimestamp {
            value: seconds.to_string(),
        })
}

/// Parses an RFC 3339 timestamp (any offset) into seconds since the Unix epoch.
pub fn parse_unix(value: &str) -> Result<i64, FormatError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| FormatError::InvalidTimestamp {
            value: value.to_owned(),
        })
}

/// Normalises any RFC 3339 timestamp to the UTC, second-precision form documents carry.
pub fn normalize(value: &str) -> Result<String, FormatError> {
    format_unix(parse_unix(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_formats_as_z() {
        assert_eq!(format_unix(0).unwrap(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn offsets_normalise_to_utc() {
        assert_eq!(
            normalize("2026-01-31T14:00:00+02:00").unwrap(),
            "2026-01-31T12:00:00Z"
        );
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(parse_unix("yesterday").is_err());
        assert!(parse_unix("2026-13-01T00:00:00Z").is_err());
    }
}
