//! Annotated tags, GPG-signed on request, as `git tag -a` / `git tag -s` make them.

use deploykit_core::{Error, Result, Sha};
use git2::{ObjectType, Repository, Signature};

use super::errors::git_error;
use super::gpg::detached_signature;
use super::history::commit_oid;
use super::identity::signature;
use super::message::cleaned_message;

/// The `tagger` line value: `Name <email> <seconds> <+hhmm>`.
fn tagger_line(who: &Signature<'_>) -> String {
    let when = who.when();
    let offset = when.offset_minutes();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs();
    format!(
        "{} <{}> {} {sign}{:02}{:02}",
        String::from_utf8_lossy(who.name_bytes()),
        String::from_utf8_lossy(who.email_bytes()),
        when.seconds(),
        offset / 60,
        offset % 60
    )
}

fn config_value(repo: &Repository, key: &str) -> Option<String> {
    repo.config()
        .ok()
        .and_then(|c| c.get_string(key).ok())
        .filter(|v| !v.trim().is_empty())
}

/// Creates `refs/tags/<name>` pointing at a new annotated tag object on `target`.
pub(crate) fn create_tag(
    repo: &Repository,
    name: &str,
    target: &Sha,
    message: &str,
    signed: bool,
) -> Result<()> {
    let refname = format!("refs/tags/{name}");
    if !git2::Reference::is_valid_name(&refname) {
        return Err(Error::invalid_input(format!(
            "{name:?} is not a valid tag name (see `git check-ref-format`)"
        )));
    }
    if let Ok(existing) = repo.find_reference(&refname) {
        let at = existing
            .peel_to_commit()
            .map(|c| c.id().to_string())
            .unwrap_or_default();
        return Err(Error::conflict(format!(
            "tag {name} already exists (on {at}); choose another name or delete it first"
        ))
        .with("tag", name));
    }
    let fail = |e: git2::Error| git_error(&format!("creating tag {name}"), &e, None);
    let target_oid = commit_oid(repo, target)?;
    let tagger = signature(repo)?;
    let message = cleaned_message(message);
    if !signed {
        let object = repo.find_object(target_oid, None).map_err(fail)?;
        repo.tag(name, &object, &tagger, &message, false)
            .map_err(fail)?;
        return Ok(());
    }
    let mut text = format!(
        "object {target_oid}\ntype commit\ntag {name}\ntagger {}\n\n{message}",
        tagger_line(&tagger)
    );
    let program = config_value(repo, "gpg.program").unwrap_or_else(|| "gpg".to_string());
    let key = config_value(repo, "user.signingkey").unwrap_or_else(|| {
        format!(
            "{} <{}>",
            String::from_utf8_lossy(tagger.name_bytes()),
            String::from_utf8_lossy(tagger.email_bytes())
        )
    });
    text.push_str(&detached_signature(&program, &key, text.as_bytes())?);
    let odb = repo.odb().map_err(fail)?;
    let tag_oid = odb.write(ObjectType::Tag, text.as_bytes()).map_err(fail)?;
    repo.reference(
        &refname,
        tag_oid,
        false,
        &format!("deploykit: signed tag {name}"),
    )
    .map_err(fail)?;
    Ok(())
}

/// The names of the tags (lightweight or annotated) whose commit is `target`, sorted.
pub(crate) fn tags_at(repo: &Repository, target: &Sha) -> Result<Vec<String>> {
    let target = commit_oid(repo, target)?;
    let names = repo
        .tag_names(None)
        .map_err(|e| git_error("listing tags", &e, None))?;
    let mut found = Vec::new();
    // A name that is not UTF-8 (or that git2 cannot read) is skipped: no release tag is one.
    for name in names.iter().filter_map(|n| n.ok().flatten()) {
        let on_target = repo
            .find_reference(&format!("refs/tags/{name}"))
            .and_then(|r| r.peel_to_commit())
            .is_ok_and(|c| c.id() == target);
        if on_target {
            found.push(name.to_string());
        }
    }
    found.sort();
    Ok(found)
}
