//! API keys for the bulk API: administrators issue, list and revoke them; the server
//! checks them on every bulk request.

use crate::{Muster, ServiceError};
use muster_domain::TenantId;
use muster_store::{ApiKey, ApiKeyRejection, IssuedApiKey};

/// Longest accepted key name.
const MAX_NAME_LENGTH: usize = 100;

impl Muster {
    /// Issues a key. `expires` is a date (`YYYY-MM-DD`, the key stops working at its
    /// start, UTC), a number of days (`90d`) or `None` for a key that does not expire.
    pub async fn create_api_key(
        &self,
        tenant: &TenantId,
        name: &str,
        expires: Option<&str>,
    ) -> Result<IssuedApiKey, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_LENGTH {
            return Err(ServiceError::validation(
                "name",
                format!("give the key a name of 1 to {MAX_NAME_LENGTH} characters, e.g. the program that will use it"),
            ));
        }
        let expires_at = match expires.map(str::trim).filter(|value| !value.is_empty()) {
            Some(value) => Some(parse_expiry(value, time::OffsetDateTime::now_utc())?),
            None => None,
        };
        let issued = self.store.create_api_key(tenant, name, expires_at.as_deref()).await?;
        tracing::info!(api_key_id = %issued.key.id, name, "API key created");
        Ok(issued)
    }

    pub async fn list_api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, ServiceError> {
        Ok(self.store.list_api_keys(tenant).await?)
    }

    pub async fn revoke_api_key(&self, tenant: &TenantId, id: &str) -> Result<ApiKey, ServiceError> {
        let key = self.store.revoke_api_key(tenant, id.trim()).await?;
        tracing::info!(api_key_id = %key.id, "API key revoked");
        Ok(key)
    }

    /// Checks a presented key. Every use is logged with the key id, never the secret.
    pub async fn authenticate_api_key(&self, id: &str, secret: &str) -> Result<Result<ApiKey, ApiKeyRejection>, ServiceError> {
        let outcome = self.store.authenticate_api_key(id, secret).await?;
        match &outcome {
            Ok(key) => tracing::info!(api_key_id = %key.id, tenant = %key.tenant_id, "API key used"),
            Err(rejection) => tracing::warn!(api_key_id = %id, reason = %rejection, "API key refused"),
        }
        Ok(outcome)
    }
}

/// Turns `YYYY-MM-DD` or `<N>d` into a stored timestamp after `now`.
fn parse_expiry(value: &str, now: time::OffsetDateTime) -> Result<String, ServiceError> {
    let invalid = || {
        ServiceError::validation(
            "expires",
            format!("`{value}` is not an expiry: use a future date as YYYY-MM-DD or a number of days such as 90d"),
        )
    };
    let at = if let Some(days) = value.strip_suffix(['d', 'D']) {
        let days: i64 = days.trim().parse().map_err(|_| invalid())?;
        if !(1..=3650).contains(&days) {
            return Err(invalid());
        }
        now + time::Duration::days(days)
    } else {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(value, &format).map_err(|_| invalid())?;
        date.midnight().assume_utc()
    };
    if at <= now {
        return Err(invalid());
    }
    Ok(muster_domain::format_timestamp(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_forms() {
        let now = time::macros::datetime!(2026-12-04 10:00 UTC);
        assert_eq!(parse_expiry("30d", now).ok().as_deref(), Some("2027-01-03T10:00:00.000000Z"));
        assert_eq!(parse_expiry("2027-01-01", now).ok().as_deref(), Some("2027-01-01T00:00:00.000000Z"));
        assert!(parse_expiry("2026-12-01", now).is_err());
        assert!(parse_expiry("0d", now).is_err());
        assert!(parse_expiry("soon", now).is_err());
    }
}
