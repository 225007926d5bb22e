//! Parses arbitrary text as a policy document (JSON or percent-encoded) and, when it
//! parses, evaluates a few requests against it: none of this may panic.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use muster_policy::{
    check, evaluate, parse_policy_text, PolicySource, PrincipalPolicies, Request, RequestContext,
    SourcedPolicy,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = parse_policy_text(text) else {
        return;
    };
    let policies = PrincipalPolicies {
        identity: vec![SourcedPolicy {
            source: PolicySource::Other {
                name: "fuzz".into(),
            },
            document: Arc::new(policy),
        }],
        ..PrincipalPolicies::default()
    };
    let mut context = RequestContext::new();
    context.insert("aws:username", "fuzz-user");
    context.insert("aws:SourceIp", "203.0.113.7");
    context.insert("aws:CurrentTime", "2024-05-01T00:00:00Z");
    for (action, resource) in [
        ("s3:GetObject", "arn:aws:s3:::bucket/key"),
        ("iam:CreateUser", "arn:aws:iam::111122223333:user/fuzz-user"),
        ("sts:AssumeRole", "*"),
    ] {
        let request = Request {
            action,
            resource,
            context: &context,
        };
        let _ = check(&policies, &request);
        let _ = evaluate(&policies, &request);
    }
});
