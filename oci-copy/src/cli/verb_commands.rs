//! Runs the registry verbs: each argument set handed to the function that does the verb.

use crate::cli::artifact::{self, ArtifactSpec};
use crate::cli::commands::{Failure, location};
use crate::cli::verb_args::{ArtifactAction, BlobAction, ManifestAction, VerbCommand};
use crate::cli::{blob_verbs, login, manifest_verbs, registry_verbs, search, verbs};

/// Runs one registry verb.
pub(crate) async fn dispatch(command: VerbCommand) -> Result<(), Failure> {
    match command {
        VerbCommand::Tags {
            reference,
            include,
            exclude,
            json,
            registry,
        } => {
            let filter = verbs::TagPatterns::new(include.as_deref(), exclude.as_deref())?;
            verbs::tags(&location(&reference)?, &filter, json, &registry).await
        }
        VerbCommand::Digest {
            reference,
            json,
            registry,
        } => verbs::digest(&location(&reference)?, json, &registry).await,
        VerbCommand::Manifest { action } => manifest(action).await,
        VerbCommand::Blob { action } => blob(action).await,
        VerbCommand::Artifact { action } => artifact(action).await,
        VerbCommand::Login(args) => login::login(&args).await,
        VerbCommand::Logout(args) => login::logout(&args),
        VerbCommand::Search {
            registry_host,
            term,
            limit,
            json,
            registry,
        } => search::search(&registry_host, &term, limit, json, &registry).await,
        VerbCommand::Tag {
            reference,
            tags,
            registry,
        } => registry_verbs::tag(&reference, &tags, &registry).await,
        VerbCommand::Delete {
            reference,
            registry,
        } => registry_verbs::delete(&reference, &registry).await,
        VerbCommand::Catalog {
            registry_host,
            json,
            registry,
        } => registry_verbs::catalog(&registry_host, json, &registry).await,
        VerbCommand::Referrers {
            reference,
            artifact_type,
            json,
            registry,
        } => registry_verbs::referrers(&reference, artifact_type.as_deref(), json, &registry).await,
    }
}

async fn manifest(action: ManifestAction) -> Result<(), Failure> {
    match action {
        ManifestAction::Get {
            reference,
            registry,
        } => manifest_verbs::get(&reference, &registry).await,
        ManifestAction::Put {
            reference,
            file,
            media_type,
            registry,
        } => manifest_verbs::put(&reference, &file, media_type.as_deref(), &registry).await,
        ManifestAction::Delete {
            reference,
            registry,
        } => registry_verbs::delete(&reference, &registry).await,
    }
}

async fn blob(action: BlobAction) -> Result<(), Failure> {
    match action {
        BlobAction::Get {
            reference,
            output,
            registry,
        } => blob_verbs::get(&reference, output.as_deref(), &registry).await,
        BlobAction::Put {
            repository,
            file,
            json,
            registry,
        } => blob_verbs::put(&repository, &file, json, &registry).await,
        BlobAction::Delete {
            reference,
            registry,
        } => blob_verbs::delete(&reference, &registry).await,
    }
}

async fn artifact(action: ArtifactAction) -> Result<(), Failure> {
    match action {
        ArtifactAction::Push {
            reference,
            files,
            artifact_type,
            subject,
            annotations,
            registry,
        } => {
            let spec = ArtifactSpec {
                files: &files,
                artifact_type: &artifact_type,
                subject: subject.as_deref(),
                annotations: &annotations,
            };
            artifact::push(&reference, &spec, &registry).await
        }
        ArtifactAction::Pull {
            reference,
            output,
            registry,
        } => artifact::pull(&reference, &output, &registry).await,
    }
}
