#!/usr/bin/env python3
"""Build a large synthetic IAM account in the moto emulator for the sync benchmark.

Usage: build_large_account.py ENDPOINT_URL [--users N] [--roles N] [--groups N] [--policies N]

Defaults: 2,000 users, 500 roles, 50 groups, 300 customer managed policies. Every third
user has an access key, every fifth an MFA device, every fourth a console password. All
names are synthetic. Prints a JSON summary of what it created.
"""

import argparse
import json
import sys

import boto3

ACCOUNT_ID = "123456789012"


def policy_document(index):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [f"s3:GetObject", f"s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::bench-bucket-{index}", f"arn:aws:s3:::bench-bucket-{index}/*"]},
            {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
        ],
    })


def trust_document(principal):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--roles", type=int, default=500)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--policies", type=int, default=300)
    args = parser.parse_args()

    iam = boto3.client(
        "iam",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    policy_arns = []
    for index in range(args.policies):
        created = iam.create_policy(PolicyName=f"bench-policy-{index:04d}", PolicyDocument=policy_document(index))
        policy_arns.append(created["Policy"]["Arn"])

    groups = []
    for index in range(args.groups):
        name = f"bench-group-{index:03d}"
        iam.create_group(GroupName=name)
        iam.attach_group_policy(GroupName=name, PolicyArn=policy_arns[index % len(policy_arns)])
        groups.append(name)

    counts = {"access_keys": 0, "mfa_devices": 0, "login_profiles": 0}
    for index in range(args.users):
        name = f"bench-user-{index:05d}"
        iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": f"team-{index % 20}"}])
        iam.add_user_to_group(GroupName=groups[index % len(groups)], UserName=name)
        if index % 7 == 0:
            iam.add_user_to_group(GroupName=groups[(index + 1) % len(groups)], UserName=name)
        if index % 10 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=policy_arns[index % len(policy_arns)])
        if index % 25 == 0:
            iam.put_user_policy(UserName=name, PolicyName="inline-bench", PolicyDocument=policy_document(index))
        if index % 3 == 0:
            iam.create_access_key(UserName=name)
            counts["access_keys"] += 1
        if index % 4 == 0:
            iam.create_login_profile(UserName=name, Password="Bench-Passw0rd!")
            counts["login_profiles"] += 1
        if index % 5 == 0:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-mfa")
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
            counts["mfa_devices"] += 1

    for index in range(args.roles):
        name = f"bench-role-{index:04d}"
        if index % 2 == 0:
            principal = {"Service": "ec2.amazonaws.com"}
        else:
            principal = {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/bench-user-{index:05d}"}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_document(principal))
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arns[(index * 7) % len(policy_arns)])

    summary = {
        "users": args.users,
        "roles": args.roles,
        "groups": args.groups,
        "customer_policies": args.policies,
        **counts,
    }
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
