//! Syncs through the fault-injecting proxy of `common/proxy.rs`: one test per kind of
//! misbehaviour that deployed SCIM servers show, each checking that the inventory read
//! through the faults equals the one read from `scim2-server` directly, or that the
//! failure is reported as it should be.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::proxy::{ErrorBody, FaultProxy, Faults, Injected, TotalResults};
use common::*;
use muster_domain::{IntegrationStatus, Inventory};
use muster_scim::ScimOptions;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

const USERS: usize = 230;
const GROUPS: usize = 6;

/// A seeded server, the inventory read from it directly, and a proxy in front of it.
struct Setup {
    server: ScimServer,
    seeded: Seeded,
    expected: Digest,
    proxy: FaultProxy,
}

async fn setup(faults: Faults) -> Setup {
    let server = ScimServer::start().await;
    let seeded = seed(&server.url, USERS, GROUPS).await;
    let direct = muster_scim::extract(&server.endpoint(), &options(), &no_progress)
        .await
        .unwrap();
    assert!(direct.warnings.is_empty(), "{:?}", direct.warnings);
    let expected = digest(&direct);
    let proxy = FaultProxy::start(&server.url, faults).await;
    Setup {
        server,
        seeded,
        expected,
        proxy,
    }
}

impl Setup {
    async fn extract(&self, options: &ScimOptions) -> Result<Inventory, muster_scim::ScimError> {
        muster_scim::extract(&endpoint(&self.proxy.url, TOKEN), options, &no_progress).await
    }

    fn list_targets(&self) -> Vec<String> {
        self.proxy
            .requests()
            .into_iter()
            .filter(|request| {
                request.method == "GET"
                    && (request.target.starts_with("/Users?")
                        || request.target.starts_with("/Groups?"))
            })
            .map(|request| request.target)
            .collect()
    }
}

fn query_value(target: &str, name: &str) -> Option<String> {
    let (_, query) = target.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn start_index_zero_echo_and_strict_paging() {
    let setup = setup(Faults {
        strict_paging: true,
        echo_start_index_zero: true,
        ..Faults::default()
    })
    .await;
    let options = ScimOptions {
        page_size: 40,
        ..options()
    };

    let inventory = setup.extract(&options).await.unwrap();

    assert_eq!(digest(&inventory), setup.expected);
    assert!(!incomplete(&inventory), "{:?}", inventory.warnings);
    let user_starts: Vec<u64> = setup
        .list_targets()
        .iter()
        .filter(|target| target.starts_with("/Users?"))
        .map(|target| {
            assert_eq!(
                query_value(target, "count").as_deref(),
                Some("40"),
                "{target}"
            );
            query_value(target, "startIndex").unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(user_starts, vec![1, 41, 81, 121, 161, 201, 231]);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_or_missing_total_results() {
    let setup = setup(Faults::default()).await;
    let options = ScimOptions {
        page_size: 50,
        ..options()
    };
    let cases = [
        (TotalResults::PageSize, true),
        (TotalResults::CappedAt(100), true),
        (TotalResults::Missing, false),
    ];
    for (total_results, disagrees) in cases {
        setup
            .proxy
            .set(|faults| faults.total_results = total_results);

        let inventory = setup.extract(&options).await.unwrap();

        let read = digest(&inventory);
        assert_eq!(
            read.identities, setup.expected.identities,
            "{total_results:?}"
        );
        assert_eq!(
            read.relations, setup.expected.relations,
            "{total_results:?}"
        );
        assert_eq!(
            incomplete(&inventory),
            disagrees,
            "{total_results:?}: {:?}",
            inventory.warnings
        );
        if disagrees {
            assert!(
                inventory
                    .warnings
                    .iter()
                    .any(|warning| warning.contains("/Users reported totalResults")),
                "{:?}",
                inventory.warnings
            );
        }
    }

    // A hard page cap ends a listing that never runs dry, and marks it incomplete.
    let capped = ScimOptions {
        page_size: 50,
        max_pages: 2,
        ..options
    };
    setup
        .proxy
        .set(|faults| faults.total_results = TotalResults::Keep);
    let inventory = setup.extract(&capped).await.unwrap();
    assert!(incomplete(&inventory));
    assert!(
        inventory
            .warnings
            .iter()
            .any(|warning| warning.contains("page cap")),
        "{:?}",
        inventory.warnings
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn short_pages_and_ignored_count() {
    let setup = setup(Faults::default()).await;
    for (asked, returned) in [(100, 7), (10, 250)] {
        setup
            .proxy
            .set(|faults| faults.force_count = Some(returned));
        setup.proxy.clear_log();
        let options = ScimOptions {
            page_size: asked,
            ..options()
        };

        let inventory = setup.extract(&options).await.unwrap();

        assert_eq!(
            digest(&inventory),
            setup.expected,
            "asked {asked}, returned {returned}"
        );
        assert!(!incomplete(&inventory), "{:?}", inventory.warnings);
        let user_pages = setup
            .list_targets()
            .iter()
            .filter(|target| target.starts_with("/Users?"))
            .count();
        let expected_pages = USERS.div_ceil(returned as usize) + 1;
        assert_eq!(
            user_pages, expected_pages,
            "asked {asked}, returned {returned}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn attribute_names_in_other_case() {
    let setup = setup(Faults {
        other_case: true,
        ..Faults::default()
    })
    .await;

    let inventory = setup.extract(&options()).await.unwrap();
    assert_eq!(digest(&inventory), setup.expected);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);

    let group_id = &setup.seeded.group_ids[3];
    let member = &setup.seeded.members[group_id][0];
    let outcome = muster_scim::remove_group_member(
        &endpoint(&setup.proxy.url, TOKEN),
        &options(),
        group_id,
        member,
    )
    .await
    .unwrap();
    assert!(outcome.verified, "{}", outcome.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn unstable_order_deduplicated() {
    let setup = setup(Faults {
        unstable_order: true,
        ..Faults::default()
    })
    .await;
    let options = ScimOptions {
        page_size: 20,
        ..options()
    };

    for _ in 0..3 {
        let inventory = setup.extract(&options).await.unwrap();
        inventory.validate().unwrap();
        let read = digest(&inventory);
        for (id, facts) in &read.identities {
            assert_eq!(setup.expected.identities.get(id), Some(facts));
        }
        if read.identities.len() < USERS {
            assert!(
                incomplete(&inventory),
                "{} users read, no warning",
                read.identities.len()
            );
        }
    }
    assert!(setup
        .list_targets()
        .iter()
        .all(|target| query_value(target, "sortBy").as_deref() == Some("id")));

    // The group is read again right before a member is removed.
    setup.proxy.clear_log();
    let group_id = &setup.seeded.group_ids[1];
    let member = &setup.seeded.members[group_id][0];
    muster_scim::remove_group_member(
        &endpoint(&setup.proxy.url, TOKEN),
        &options,
        group_id,
        member,
    )
    .await
    .unwrap();
    let requests = setup.proxy.requests();
    let patch_at = requests
        .iter()
        .position(|request| request.method == "PATCH")
        .unwrap();
    assert_eq!(requests[patch_at - 1].method, "GET");
    assert_eq!(requests[patch_at - 1].target, format!("/Groups/{group_id}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_values_escaped_and_encoded() {
    let setup = setup(Faults::default()).await;
    for name in [OBRIEN, PLUS_ADDRESS, AWKWARD] {
        setup.proxy.clear_log();
        let found = muster_scim::find_users(
            &endpoint(&setup.proxy.url, TOKEN),
            &options(),
            "userName",
            name,
        )
        .await
        .unwrap();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].source_id, setup.seeded.user_id_named(name));

        let target = setup.list_targets().remove(0);
        let filter = query_value(&target, "filter").unwrap();
        assert!(
            !filter.contains('+') && !filter.contains(' ') && !filter.contains('"'),
            "{filter}"
        );
        let decoded = percent_encoding::percent_decode_str(&filter)
            .decode_utf8()
            .unwrap();
        let expected = format!("userName eq {}", Value::from(name));
        assert_eq!(decoded, expected);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn media_types_and_415_retry() {
    let setup = setup(Faults {
        reject_scim_json: true,
        response_content_type: Some("application/json+scim"),
        patch_no_content: true,
        ..Faults::default()
    })
    .await;

    let inventory = setup.extract(&options()).await.unwrap();
    assert_eq!(digest(&inventory), setup.expected);
    let requests = setup.proxy.requests();
    assert_eq!(
        requests[0].accept,
        "application/scim+json, application/json"
    );
    assert_eq!(requests[1].accept, "application/json");
    assert_eq!(
        requests
            .iter()
            .filter(|request| request.accept.contains("scim+json"))
            .count(),
        1,
        "the 415 is remembered"
    );

    let group_id = &setup.seeded.group_ids[2];
    let member = &setup.seeded.members[group_id][0];
    let outcome = muster_scim::remove_group_member(
        &endpoint(&setup.proxy.url, TOKEN),
        &options(),
        group_id,
        member,
    )
    .await
    .unwrap();
    assert_eq!(outcome.method, "PATCH");
    assert!(outcome.verified, "{}", outcome.message);
    let patch = setup
        .proxy
        .requests()
        .into_iter()
        .find(|request| request.method == "PATCH")
        .unwrap();
    assert_eq!(patch.content_type, "application/json");

    setup
        .proxy
        .set(|faults| faults.response_content_type = Some(""));
    let inventory = setup.extract(&options()).await.unwrap();
    assert_eq!(digest(&inventory).identities, setup.expected.identities);
}

#[tokio::test(flavor = "multi_thread")]
async fn unfiltered_remove_never_sent() {
    let setup = setup(Faults::default()).await;
    let group_id = setup.seeded.group_ids[4].clone();
    let members = setup.seeded.members[&group_id].clone();

    let outcome = muster_scim::remove_group_member(
        &endpoint(&setup.proxy.url, TOKEN),
        &options(),
        &group_id,
        &members[0],
    )
    .await
    .unwrap();
    assert!(outcome.verified, "{}", outcome.message);
    for request in setup
        .proxy
        .requests()
        .iter()
        .filter(|request| request.method == "PATCH")
    {
        let body: Value = serde_json::from_str(&request.body).unwrap();
        for operation in body["Operations"].as_array().unwrap() {
            if operation["op"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("remove")
            {
                let path = operation["path"].as_str().unwrap();
                assert!(path.starts_with("members[value eq "), "{path}");
            }
        }
    }

    // A server that drops the filter empties the group: the read-back must say so.
    setup.proxy.set(|faults| faults.patch_drops_filter = true);
    let outcome = muster_scim::remove_group_member(
        &endpoint(&setup.proxy.url, TOKEN),
        &options(),
        &group_id,
        &members[1],
    )
    .await
    .unwrap();
    assert!(!outcome.verified);
    assert!(
        outcome.message.contains("also lacks"),
        "{}",
        outcome.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn string_booleans_and_numbers() {
    let setup = setup(Faults {
        string_scalars: true,
        ..Faults::default()
    })
    .await;

    let inventory = setup.extract(&options()).await.unwrap();
    assert_eq!(digest(&inventory), setup.expected);
    assert!(!incomplete(&inventory), "{:?}", inventory.warnings);
    let summary = muster_scim::test_connection(&endpoint(&setup.proxy.url, TOKEN), &options())
        .await
        .unwrap();
    assert!(summary.patch_supported);
    assert_eq!(summary.filter_max_results, Some(1000));

    let user = &setup.seeded.user_ids[7];
    let outcome =
        muster_scim::deactivate_user(&endpoint(&setup.proxy.url, TOKEN), &options(), user)
            .await
            .unwrap();
    assert!(outcome.verified, "{}", outcome.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn large_groups_read_one_by_one() {
    let setup = setup(Faults::default()).await;

    let inventory = setup.extract(&options()).await.unwrap();
    assert_eq!(digest(&inventory), setup.expected);
    let group_lists: Vec<String> = setup
        .list_targets()
        .into_iter()
        .filter(|target| target.starts_with("/Groups?"))
        .collect();
    assert!(group_lists
        .iter()
        .all(|target| query_value(target, "excludedAttributes").as_deref() == Some("members")));
    let group_reads = setup
        .proxy
        .requests()
        .iter()
        .filter(|request| request.target.starts_with("/Groups/"))
        .count();
    assert_eq!(group_reads, GROUPS);

    // A list cut at 20 members is not a size servers are known to cap at, so it passes
    // unflagged; one cut at 100 is flagged.
    setup.proxy.set(|faults| faults.cap_members = Some(20));
    let inventory = setup.extract(&options()).await.unwrap();
    assert!(!incomplete(&inventory), "{:?}", inventory.warnings);

    // Group 1 of this seed has exactly 100 users; group 0 has 100 users and the nested
    // group.
    let server_with_100 = ScimServer::start().await;
    seed(&server_with_100.url, 200, 2).await;
    let inventory = muster_scim::extract(&server_with_100.endpoint(), &options(), &no_progress)
        .await
        .unwrap();
    assert!(incomplete(&inventory));
    assert!(
        inventory
            .warnings
            .iter()
            .any(|warning| warning.contains("exactly 100 members")),
        "{:?}",
        inventory.warnings
    );
    let flagged = inventory
        .entities
        .iter()
        .filter(|entity| entity.metadata["membersPossiblyTruncated"] == json!(true))
        .count();
    assert_eq!(flagged, 1);

    setup.proxy.set(|faults| {
        faults.cap_members = None;
        faults.drop_members = true;
    });
    let inventory = setup.extract(&options()).await.unwrap();
    assert!(inventory.relations.is_empty());
    assert_eq!(
        inventory
            .warnings
            .iter()
            .filter(|warning| warning.contains("without a members attribute"))
            .count(),
        GROUPS
    );
    assert!(inventory
        .entities
        .iter()
        .filter(|entity| entity.source_type == "group")
        .all(|entity| entity.metadata["membersReturned"] == json!(false)));

    // A group read slower than the request timeout still finishes within the long one.
    setup.proxy.set(|faults| {
        faults.drop_members = false;
        faults.delay = Some((Duration::from_millis(1500), 100, "/Groups/"));
    });
    let short = ScimOptions {
        request_timeout: Duration::from_millis(700),
        max_retries: 0,
        ..options()
    };
    let inventory = setup.extract(&short).await.unwrap();
    assert_eq!(digest(&inventory), setup.expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn non_scim_error_bodies() {
    let setup = setup(Faults::default()).await;
    let wrong = endpoint(&setup.proxy.url, "wrong-token-123");
    let cases = [
        (ErrorBody::PlainText, "request denied by gateway"),
        (ErrorBody::Html, "Gateway says no status 401"),
        (ErrorBody::NestedJsonString, "Authorization failure"),
        (ErrorBody::EchoAuthorization, "<redacted>"),
    ];
    for (body, excerpt) in cases {
        setup.proxy.set(|faults| faults.error_body = body);
        let error = muster_scim::extract(&wrong, &options(), &no_progress)
            .await
            .unwrap_err();
        assert_eq!(
            error.status,
            IntegrationStatus::InvalidCredentials,
            "{body:?}"
        );
        assert!(error.message.contains("HTTP 401"), "{}", error.message);
        assert!(
            error.message.contains(excerpt),
            "{body:?}: {}",
            error.message
        );
        assert!(
            !error.message.contains("wrong-token-123"),
            "{}",
            error.message
        );
    }

    setup.proxy.set(|faults| {
        faults.error_body = ErrorBody::Html;
        faults.inject.push_back(Injected::status(403));
    });
    let error = setup.extract(&options()).await.unwrap_err();
    assert_eq!(error.status, IntegrationStatus::AccessDenied);
    assert_eq!(error.code, "scim.forbidden");

    let injected = Injected {
        status: 200,
        retry_after: None,
        body: "<html>login page</html>".into(),
    };
    setup
        .proxy
        .set(|faults| faults.inject.extend([Injected::status(404), injected]));
    let error = setup.extract(&options()).await.unwrap_err();
    assert_eq!(error.code, "scim.invalid_response", "{}", error.message);
    assert!(error.message.contains("login page"), "{}", error.message);
    assert!(error.message.contains("GET /Users"), "{}", error.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_honoured_and_retried() {
    let setup = setup(Faults::default()).await;
    let in_two_seconds = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
    setup.proxy.set(|faults| {
        faults.inject.extend([
            Injected::retry_after(429, "1"),
            Injected::status(503),
            Injected::retry_after(429, "0"),
            Injected::retry_after(503, &in_two_seconds),
            Injected::status(429),
        ]);
    });

    let started = Instant::now();
    let inventory = setup.extract(&options()).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(digest(&inventory), setup.expected);
    assert!(
        elapsed >= Duration::from_secs(2),
        "Retry-After ignored: {elapsed:?}"
    );
    let requests = setup.proxy.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 not honoured: {gap:?}"
    );

    // Throttling that outlasts the retries fails the sync without blaming the credentials
    // or the network.
    setup.proxy.set(|faults| {
        faults
            .inject
            .extend((0..4).map(|_| Injected::retry_after(429, "0")))
    });
    let few = ScimOptions {
        max_retries: 2,
        ..options()
    };
    let error = setup.extract(&few).await.unwrap_err();
    assert_eq!(error.code, "scim.throttled");
    assert_eq!(error.status, IntegrationStatus::SyncFailed);
    assert!(error.message.contains("HTTP 429"), "{}", error.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_retried_then_reported() {
    let setup = setup(Faults::default()).await;
    let short = ScimOptions {
        request_timeout: Duration::from_millis(500),
        max_retries: 2,
        ..options()
    };
    setup
        .proxy
        .set(|faults| faults.delay = Some((Duration::from_secs(2), 1, "")));
    let inventory = setup.extract(&short).await.unwrap();
    assert_eq!(digest(&inventory), setup.expected);

    setup
        .proxy
        .set(|faults| faults.delay = Some((Duration::from_secs(2), 100, "")));
    let error = setup.extract(&short).await.unwrap_err();
    assert_eq!(error.status, IntegrationStatus::Unreachable);
    assert_eq!(error.code, "scim.timed_out");
    assert!(
        error.message.contains("timed out after 500ms"),
        "{}",
        error.message
    );
    setup.proxy.set(|faults| faults.delay = None);
    drop(setup.server);
}
