//! The catalog of known privilege-escalation techniques, kept as data.
//!
//! Each technique lists the actions a principal needs, what they must be allowed on,
//! and what the principal gains. The search in the parent module reads only this table,
//! so adding a technique needs no new code unless it needs a new kind of target.

/// The kind of target a technique acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// The principal itself (its own user).
    Itself,
    /// A group the user belongs to.
    OwnGroup,
    /// A customer managed policy attached to the principal or its groups.
    AttachedPolicy,
    /// A customer managed policy attached to the principal that has a stored
    /// non-default version allowing every action on every resource.
    AttachedPolicyWithAdminVersion,
    /// Another user of the account.
    OtherUser,
    /// A role of the account.
    Role,
    /// Any group of the account the user is not in yet.
    Group,
}

/// The resource a step's action must be allowed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepResource {
    /// The technique's target (its ARN).
    Target,
    /// Any resource: the action creates or runs something new.
    Any,
}

#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub action: &'static str,
    pub on: StepResource,
}

/// The access a principal gains through a technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gain {
    /// Every permission: the principal can attach or write an administrator policy.
    Administrator,
    /// The permissions of the target user, role or group.
    TargetPermissions,
}

/// One known technique.
#[derive(Debug, Clone, Copy)]
pub struct Technique {
    pub id: &'static str,
    pub description: &'static str,
    pub target: TargetKind,
    pub steps: &'static [Step],
    /// The target role must trust this service principal, which runs with the role.
    pub service: Option<&'static str>,
    /// The principal must also be able to assume the target role (unless it is that role).
    pub assume_target: bool,
    /// Only users can use it (the action adds or names the calling user).
    pub users_only: bool,
    /// It works only through a resource that already runs with the target role (an
    /// existing function, endpoint or instance), which account data does not show.
    pub needs_existing_resource: bool,
    pub gain: Gain,
}

const fn target(action: &'static str) -> Step {
    Step {
        action,
        on: StepResource::Target,
    }
}

const fn any(action: &'static str) -> Step {
    Step {
        action,
        on: StepResource::Any,
    }
}

const BASE: Technique = Technique {
    id: "",
    description: "",
    target: TargetKind::Itself,
    steps: &[],
    service: None,
    assume_target: false,
    users_only: false,
    needs_existing_resource: false,
    gain: Gain::Administrator,
};

/// Passing a role to a service that then runs code of the caller's choosing.
const fn pass_role(
    id: &'static str,
    description: &'static str,
    service: &'static str,
    steps: &'static [Step],
) -> Technique {
    Technique {
        id,
        description,
        target: TargetKind::Role,
        steps,
        service: Some(service),
        gain: Gain::TargetPermissions,
        ..BASE
    }
}

pub static TECHNIQUES: &[Technique] = &[
    Technique {
        id: "create-policy-version",
        description: "Writes a new default version of a customer managed policy attached to itself, \
                      with a statement allowing every action.",
        target: TargetKind::AttachedPolicy,
        steps: &[target("iam:CreatePolicyVersion")],
        ..BASE
    },
    Technique {
        id: "set-default-policy-version",
        description: "Makes an older stored version of a policy attached to itself the default, \
                      and that version allows every action.",
        target: TargetKind::AttachedPolicyWithAdminVersion,
        steps: &[target("iam:SetDefaultPolicyVersion")],
        ..BASE
    },
    Technique {
        id: "attach-user-policy",
        description: "Attaches an administrator managed policy, such as AdministratorAccess, to its own user.",
        target: TargetKind::Itself,
        steps: &[target("iam:AttachUserPolicy")],
        users_only: true,
        ..BASE
    },
    Technique {
        id: "put-user-policy",
        description: "Writes an inline policy allowing every action into its own user.",
        target: TargetKind::Itself,
        steps: &[target("iam:PutUserPolicy")],
        users_only: true,
        ..BASE
    },
    Technique {
        id: "attach-group-policy",
        description: "Attaches an administrator managed policy to a group it belongs to.",
        target: TargetKind::OwnGroup,
        steps: &[target("iam:AttachGroupPolicy")],
        users_only: true,
        ..BASE
    },
    Technique {
        id: "put-group-policy",
        description: "Writes an inline policy allowing every action into a group it belongs to.",
        target: TargetKind::OwnGroup,
        steps: &[target("iam:PutGroupPolicy")],
        users_only: true,
        ..BASE
    },
    Technique {
        id: "attach-role-policy",
        description: "Attaches an administrator managed policy to a role that it is or can assume.",
        target: TargetKind::Role,
        steps: &[target("iam:AttachRolePolicy")],
        assume_target: true,
        ..BASE
    },
    Technique {
        id: "put-role-policy",
        description: "Writes an inline policy allowing every action into a role that it is or can assume.",
        target: TargetKind::Role,
        steps: &[target("iam:PutRolePolicy")],
        assume_target: true,
        ..BASE
    },
    Technique {
        id: "add-user-to-group",
        description: "Adds its own user to another group and so gains that group's permissions.",
        target: TargetKind::Group,
        steps: &[target("iam:AddUserToGroup")],
        users_only: true,
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "create-access-key",
        description: "Creates an access key for another user and signs requests as that user.",
        target: TargetKind::OtherUser,
        steps: &[target("iam:CreateAccessKey")],
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "create-login-profile",
        description: "Sets a console password for another user that has none and signs in as that user.",
        target: TargetKind::OtherUser,
        steps: &[target("iam:CreateLoginProfile")],
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "update-login-profile",
        description: "Changes another user's console password and signs in as that user.",
        target: TargetKind::OtherUser,
        steps: &[target("iam:UpdateLoginProfile")],
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "update-assume-role-policy",
        description: "Rewrites a role's trust policy to name itself; a trust policy naming a principal \
                      of the same account lets it assume the role.",
        target: TargetKind::Role,
        steps: &[target("iam:UpdateAssumeRolePolicy")],
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "assume-role",
        description: "Assumes a role whose trust policy and its own policies allow it.",
        target: TargetKind::Role,
        steps: &[target("sts:AssumeRole")],
        assume_target: true,
        gain: Gain::TargetPermissions,
        ..BASE
    },
    pass_role(
        "pass-role-ec2",
        "Starts an EC2 instance with an instance profile for the role and uses the role's \
         credentials from the instance.",
        "ec2.amazonaws.com",
        &[target("iam:PassRole"), any("ec2:RunInstances")],
    ),
    pass_role(
        "pass-role-lambda-invoke",
        "Creates a Lambda function that runs with the role, then invokes it.",
        "lambda.amazonaws.com",
        &[target("iam:PassRole"), any("lambda:CreateFunction"), any("lambda:InvokeFunction")],
    ),
    pass_role(
        "pass-role-lambda-event-source",
        "Creates a Lambda function that runs with the role and an event source mapping that \
         triggers it.",
        "lambda.amazonaws.com",
        &[target("iam:PassRole"), any("lambda:CreateFunction"), any("lambda:CreateEventSourceMapping")],
    ),
    pass_role(
        "pass-role-cloudformation",
        "Creates a CloudFormation stack that runs with the role and creates any resource.",
        "cloudformation.amazonaws.com",
        &[target("iam:PassRole"), any("cloudformation:CreateStack")],
    ),
    pass_role(
        "pass-role-glue",
        "Creates a Glue development endpoint that runs with the role and logs into it.",
        "glue.amazonaws.com",
        &[target("iam:PassRole"), any("glue:CreateDevEndpoint")],
    ),
    pass_role(
        "pass-role-data-pipeline",
        "Creates and activates a Data Pipeline that runs commands with the role.",
        "datapipeline.amazonaws.com",
        &[
            target("iam:PassRole"),
            any("datapipeline:CreatePipeline"),
            any("datapipeline:PutPipelineDefinition"),
            any("datapipeline:ActivatePipeline"),
        ],
    ),
    pass_role(
        "pass-role-ecs",
        "Registers an ECS task definition with the role as task role and runs the task.",
        "ecs-tasks.amazonaws.com",
        &[target("iam:PassRole"), any("ecs:RegisterTaskDefinition"), any("ecs:RunTask")],
    ),
    pass_role(
        "pass-role-codebuild",
        "Creates a CodeBuild project with the role as service role and starts a build that \
         runs commands of its choice.",
        "codebuild.amazonaws.com",
        &[target("iam:PassRole"), any("codebuild:CreateProject"), any("codebuild:StartBuild")],
    ),
    pass_role(
        "pass-role-sagemaker",
        "Creates a SageMaker notebook instance with the role and opens it through a presigned URL.",
        "sagemaker.amazonaws.com",
        &[
            target("iam:PassRole"),
            any("sagemaker:CreateNotebookInstance"),
            any("sagemaker:CreatePresignedNotebookInstanceUrl"),
        ],
    ),
    Technique {
        id: "update-lambda-code",
        description: "Replaces the code of an existing Lambda function that runs with the role.",
        target: TargetKind::Role,
        steps: &[any("lambda:UpdateFunctionCode")],
        service: Some("lambda.amazonaws.com"),
        needs_existing_resource: true,
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "update-glue-dev-endpoint",
        description: "Adds its own SSH key to an existing Glue development endpoint that runs with the role.",
        target: TargetKind::Role,
        steps: &[any("glue:UpdateDevEndpoint")],
        service: Some("glue.amazonaws.com"),
        needs_existing_resource: true,
        gain: Gain::TargetPermissions,
        ..BASE
    },
    Technique {
        id: "ssm-send-command",
        description: "Runs commands through Systems Manager on an existing EC2 instance that has the role.",
        target: TargetKind::Role,
        steps: &[any("ssm:SendCommand")],
        service: Some("ec2.amazonaws.com"),
        needs_existing_resource: true,
        gain: Gain::TargetPermissions,
        ..BASE
    },
];

/// Finds a technique by id.
pub fn technique(id: &str) -> Option<&'static Technique> {
    TECHNIQUES.iter().find(|technique| technique.id == id)
}
