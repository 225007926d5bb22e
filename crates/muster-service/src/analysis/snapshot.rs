//! The analysis of an AWS snapshot: computed after each sync and stored with it, and read
//! back for entity pages and `who-can` on an integration.

use super::inventory::account_from_inventory;
use super::report::{build_report, PrincipalReport};
use crate::{Muster, ServiceError};
use muster_domain::{EntityId, EntityKey, EntityType, Inventory, TenantId};
use muster_policy::{analyze_account, who_can, AnalysisOptions, Grant};
use muster_store::SnapshotAnalysis;

/// Analyses an AWS inventory. Returns an error message when the inventory cannot be read
/// as an account, which the sync records as a warning.
pub fn analyze_inventory(inventory: &Inventory) -> Result<SnapshotAnalysis, String> {
    let loaded = account_from_inventory(inventory).map_err(|error| error.to_string())?;
    // NOTE: a sync analyses with no exclusions; only `muster analyze` accepts them so far.
    let analysis = analyze_account(&loaded.account, &AnalysisOptions::default());
    let problems = loaded.problems.iter().map(ToString::to_string).collect();
    let mut report = build_report(&loaded.account, &analysis, problems);

    let principals = std::mem::take(&mut report.principals);
    let mut stored = Vec::with_capacity(principals.len());
    for principal in principals {
        let entity_type = if principal.kind == "user" {
            EntityType::Identity
        } else {
            EntityType::Connection
        };
        let findings = serde_json::to_value(&principal).map_err(|error| error.to_string())?;
        stored.push((EntityKey::new(entity_type, principal.arn), findings));
    }
    let mut document = serde_json::to_value(&report).map_err(|error| error.to_string())?;
    // Each principal is stored once, with its entity, so the document keeps only the summary.
    if let Some(object) = document.as_object_mut() {
        object.remove("principals");
    }
    Ok(SnapshotAnalysis {
        document,
        principals: stored,
    })
}

/// The principals allowed an action on a resource in one integration.
#[derive(Debug, serde::Serialize)]
pub struct IntegrationGrants {
    pub integration: String,
    pub grants: Vec<Grant>,
    /// Parts of the snapshot the engine skipped, and why.
    pub load_problems: Vec<String>,
}

impl Muster {
    /// Lists who may perform `action` on `resource` in an integration's current snapshot.
    pub async fn who_can(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        action: &str,
        resource: &str,
        context: &[(String, String)],
    ) -> Result<IntegrationGrants, ServiceError> {
        let integration = self.store.find_integration(tenant, id_or_name).await?;
        let inventory = self
            .store
            .current_inventory(tenant, &integration.id)
            .await?
            .ok_or_else(|| ServiceError::NotSynced {
                message: format!(
                    "integration `{}` has no snapshot yet: run `muster sync {}` first",
                    integration.name, integration.id
                ),
            })?;
        let loaded = account_from_inventory(&inventory).map_err(|error| ServiceError::Analysis {
            message: format!("the snapshot of `{}` cannot be analysed: {error}", integration.name),
        })?;
        Ok(IntegrationGrants {
            integration: integration.name,
            grants: who_can(&loaded.account, action, resource, context),
            load_problems: loaded.problems.iter().map(ToString::to_string).collect(),
        })
    }

    /// Returns what a principal entity can do, from the analysis stored with its
    /// snapshot, or `None` when the entity is no analysed principal.
    pub async fn entity_findings(
        &self,
        tenant: &TenantId,
        id: &EntityId,
    ) -> Result<Option<PrincipalReport>, ServiceError> {
        let Some(value) = self.store.entity_findings(tenant, id).await? else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|error| ServiceError::Analysis {
                message: format!("the stored findings of entity `{id}` are unreadable: {error}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_domain::inventory::metadata_v1;
    use muster_domain::Entity;
    use serde_json::json;

    fn principal(entity_type: EntityType, source_type: &str, arn: &str, fields: serde_json::Value) -> Entity {
        let serde_json::Value::Object(fields) = fields else {
            panic!("fields must be an object")
        };
        Entity {
            entity_type,
            source_id: arn.into(),
            source_type: source_type.into(),
            name: arn.rsplit('/').next().unwrap_or(arn).into(),
            metadata: metadata_v1(fields),
        }
    }

    #[test]
    fn findings_keyed_by_entity() {
        let inventory = Inventory {
            entities: vec![
                principal(
                    EntityType::Identity,
                    "user",
                    "arn:aws:iam::111122223333:user/ana",
                    json!({}),
                ),
                principal(
                    EntityType::Connection,
                    "role",
                    "arn:aws:iam::111122223333:role/ci",
                    json!({"TrustPolicy": null}),
                ),
            ],
            ..Inventory::default()
        };
        let analysis = analyze_inventory(&inventory).unwrap();

        let keys: Vec<&EntityKey> = analysis.principals.iter().map(|(key, _)| key).collect();
        assert_eq!(
            keys[0],
            &EntityKey::new(EntityType::Identity, "arn:aws:iam::111122223333:user/ana")
        );
        assert_eq!(
            keys[1],
            &EntityKey::new(EntityType::Connection, "arn:aws:iam::111122223333:role/ci")
        );
        assert_eq!(analysis.document["summary"]["principals"], 2);
        assert!(
            analysis.document.get("principals").is_none(),
            "principals are stored per entity"
        );
    }

    #[test]
    fn unreadable_inventory_is_error() {
        let inventory = Inventory {
            entities: vec![principal(
                EntityType::Connection,
                "policy",
                "arn:aws:iam::111122223333:policy/p",
                json!({"Versions": "not a list"}),
            )],
            ..Inventory::default()
        };
        let error = analyze_inventory(&inventory).unwrap_err();
        assert!(error.contains("PolicyVersionList"), "{error}");
    }
}
