//! The one place where AWS SDK errors become deploykit errors.
//!
//! Every port method calls [`map_sdk_error`] with the API action it called and the thing it
//! was about (a group, a parameter, a log stream), so that messages name both. Credentials
//! never reach an error: only the error code and the service's message are kept.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_autoscaling::error::{ProvideErrorMetadata, SdkError};
use deploykit_core::error::{Error, ErrorKind};

/// Error codes AWS services use to ask callers to slow down.
const THROTTLING_CODES: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
];

/// Error codes meaning the credentials are missing, wrong, expired or lack a permission.
const AUTH_CODES: [&str; 10] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "MissingAuthenticationToken",
];

/// Error codes meaning the named resource does not exist.
const NOT_FOUND_CODES: [&str; 8] = [
    "ParameterNotFound",
    "ResourceNotFoundException",
    "TargetGroupNotFound",
    "LoadBalancerNotFound",
    "InvalidInstanceID.NotFound",
    "InvalidInstance",
    "InvocationDoesNotExist",
    "ScheduledActionNotFound",
];

/// Maps an error code and message of `action` on `subject` to a deploykit error kind.
pub(crate) fn classify(code: &str, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    if THROTTLING_CODES.contains(&code) || lower.contains("rate exceeded") {
        ErrorKind::RateLimited
    } else if AUTH_CODES.contains(&code) {
        ErrorKind::Unauthenticated
    } else if NOT_FOUND_CODES.contains(&code)
        || (code == "ValidationError"
            && (lower.contains("not found") || lower.contains("does not exist")))
    {
        ErrorKind::NotFound
    } else {
        ErrorKind::Backend
    }
}

/// Builds the deploykit error for a service error `code`/`message` of `action` on `subject`.
pub(crate) fn service_error(action: &str, subject: &str, code: &str, message: &str) -> Error {
    let kind = classify(code, message);
    let text = match kind {
        ErrorKind::RateLimited => format!(
            "AWS throttled {action} on {subject} ({code}); deploykit retries later, or wait a \
             minute and run the command again"
        ),
        ErrorKind::Unauthenticated => format!(
            "AWS refused {action} on {subject} ({code}: {message}); check that your credentials \
             are current (aws-vault exec / AWS_PROFILE) and that the role allows {action} \
             (see deploykit-aws/iam-policy.json)"
        ),
        ErrorKind::NotFound => format!(
            "{subject} does not exist ({action} said {code}: {message}); check the environment \
             and names"
        ),
        _ => format!("AWS {action} on {subject} failed with {code}: {message}"),
    };
    Error::new(kind, text)
        .with("action", action)
        .with("subject", subject)
        .with("code", code)
}

/// The first error of `err`'s source chain (itself included) of type `T`.
fn find_in_chain<'e, T: StdError + 'static>(err: &'e (dyn StdError + 'static)) -> Option<&'e T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// The credentials provider's error in `err`'s source chain: the SDK reports a failure to
/// load credentials as a dispatch failure whose source is that error.
fn credentials_error<'e>(err: &'e (dyn StdError + 'static)) -> Option<&'e CredentialsError> {
    find_in_chain::<CredentialsError>(err)
}

/// Unauthenticated, permanent: no AWS credentials could be loaded for `action` on
/// `subject`. Names the profile (`AWS_PROFILE`) when one is set, never a key.
fn no_credentials(action: &str, subject: &str, provider_says: &str) -> Error {
    let profile = match std::env::var("AWS_PROFILE") {
        Ok(p) if !p.is_empty() => format!(
            " AWS_PROFILE is {p:?}: check that ~/.aws/config has that profile (`aws \
             configure list-profiles`) and that its credentials are current (`aws sso login \
             --profile {p}` for an SSO profile)."
        ),
        _ => String::new(),
    };
    Error::unauthenticated(format!(
        "no AWS credentials were found for {action} on {subject} (AWS SDK: {provider_says}).{profile} \
         Provide them with `aws-vault exec PROFILE -- deploykit ...`, with AWS_PROFILE naming \
         a profile of ~/.aws/config, or with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
         (and AWS_SESSION_TOKEN for temporary keys)"
    ))
    .temporary(false)
    .with("action", action)
    .with("subject", subject)
}

/// Converts an SDK error of `action` about `subject` into a deploykit [`Error`].
pub(crate) fn map_sdk_error<E, R>(action: &str, subject: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    if let SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) = &err
        && let Some(cause) = credentials_error(&err)
    {
        let says = cause.to_string();
        return no_credentials(action, subject, &says).with_source(err);
    }
    let error = match &err {
        SdkError::TimeoutError(_) => Error::timeout(format!(
            "AWS {action} on {subject} did not answer in time; try again, or check the network"
        ))
        .with("action", action)
        .with("subject", subject),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Error::timeout(format!(
            "AWS {action} on {subject} timed out while connecting; try again, or check the network"
        ))
        .with("action", action)
        .with("subject", subject),
        SdkError::DispatchFailure(_) => Error::backend(format!(
            "could not reach AWS for {action} on {subject}; check the network, AWS_REGION and \
             AWS_ENDPOINT_URL"
        ))
        .temporary(true)
        .with("action", action)
        .with("subject", subject),
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("Unknown").to_string();
            let message = err.message().unwrap_or("no message").to_string();
            service_error(action, subject, &code, &message)
        }
        SdkError::ResponseError(_) => Error::backend(format!(
            "AWS {action} on {subject} returned a response deploykit could not read"
        ))
        .with("action", action)
        .with("subject", subject),
        SdkError::ConstructionFailure(_) => Error::backend(format!(
            "could not build the AWS {action} request for {subject} (credentials or region \
             missing?); check AWS_PROFILE / AWS_REGION"
        ))
        .with("action", action)
        .with("subject", subject),
        _ => Error::backend(format!("AWS {action} on {subject} failed"))
            .with("action", action)
            .with("subject", subject),
    };
    error.with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds_a_caller_can_act_on() {
        assert_eq!(
            classify("Throttling", "Rate exceeded"),
            ErrorKind::RateLimited
        );
        assert_eq!(classify("RequestLimitExceeded", ""), ErrorKind::RateLimited);
        assert_eq!(
            classify("UnauthorizedOperation", "no"),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            classify("ExpiredToken", "expired"),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            classify(
                "ValidationError",
                "AutoScalingGroup name not found - prod-x"
            ),
            ErrorKind::NotFound
        );
        assert_eq!(classify("ValidationError", "bad size"), ErrorKind::Backend);
        assert_eq!(classify("InternalFailure", "boom"), ErrorKind::Backend);
    }

    #[test]
    fn messages_name_the_action_and_the_subject() {
        let e = service_error(
            "DescribeAutoScalingGroups",
            "group prod-idp",
            "AccessDenied",
            "User is not authorized",
        );
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        assert!(e.to_string().contains("DescribeAutoScalingGroups"), "{e}");
        assert!(e.to_string().contains("prod-idp"), "{e}");
        let t = service_error(
            "UpdateAutoScalingGroup",
            "group prod-idp",
            "Throttling",
            "x",
        );
        assert!(t.is_temporary());
        let n = service_error("X", "group prod-x", "ValidationError", "Group not found");
        assert_eq!(n.kind(), ErrorKind::NotFound);
        assert!(n.to_string().contains("prod-x"));
    }
}
